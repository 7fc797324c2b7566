package dev.similarity.embedding.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ArgumentsTest {

  @Test
  void aRepeatedOptionKeepsEveryValueInOrderAndItsLastForGet() {
    Arguments a = Arguments.parse(new String[] {"--model", "a=/x", "--queries", "5", "--model=b=/y"}, "usage",
        List.of("--model", "--queries"), List.of());
    assertEquals(List.of("a=/x", "b=/y"), a.getAll("--model"));
    assertEquals("b=/y", a.get("--model", null));
    assertEquals(List.of(), a.getAll("--head"));
  }
}
