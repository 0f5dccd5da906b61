#include <catch2/catch.hpp>

#include "refstore/expression.h"
#include "refstore/template.h"

using namespace kerchunkfs::refstore;

namespace {

const TemplateTable kNoTemplates;

ExprValue eval(std::string_view text, const Variables& variables = {}, const TemplateTable& templates = kNoTemplates) {
  return Expression::parse(text).evaluate(TemplateScope(templates, variables));
}

std::int64_t integer(std::string_view text, const Variables& variables = {}) {
  return std::get<std::int64_t>(eval(text, variables));
}

}  // namespace

TEST_CASE("integer arithmetic follows Python's precedence and floor semantics") {
  CHECK(integer("(i + 1) * 1000", {{"i", std::int64_t{4}}}) == 5000);
  CHECK(integer("1 + 2 * 3") == 7);
  CHECK(integer("(1 + 2) * 3") == 9);
  CHECK(integer("10 - 4 - 3") == 3);
  CHECK(integer("-3 + 5") == 2);
  CHECK(integer("--3") == 3);
  // Python: 7 // 2 == 3, -7 // 2 == -4, 7 // -2 == -4, -7 % 3 == 2, 7 % -3 == -2
  CHECK(integer("7 // 2") == 3);
  CHECK(integer("-7 // 2") == -4);
  CHECK(integer("7 // -2") == -4);
  CHECK(integer("-7 % 3") == 2);
  CHECK(integer("7 % -3") == -2);
  CHECK(integer("2 * 3 % 4") == 2);  // left to right at one precedence level
  CHECK(integer("9223372036854775807") == 9223372036854775807);
}

TEST_CASE("strings, names and concatenation") {
  CHECK(std::get<std::string>(eval("'a' + \"b\"")) == "ab");
  CHECK(std::get<std::string>(eval("name", {{"name", std::string("x")}})) == "x");
  CHECK(std::get<std::string>(eval("'it\\'s'")) == "it's");
}

TEST_CASE("expression errors are reported, not guessed") {
  CHECK_THROWS_WITH(eval("1 / 2"), Catch::Contains("use '//'"));
  CHECK_THROWS_WITH(eval("1 // 0"), Catch::Contains("division by zero"));
  CHECK_THROWS_WITH(eval("1 % 0"), Catch::Contains("modulo by zero"));
  CHECK_THROWS_WITH(eval("9223372036854775807 + 1"), Catch::Contains("overflow"));
  CHECK_THROWS_WITH(eval("4611686018427387904 * 2"), Catch::Contains("overflow"));
  CHECK_THROWS_WITH(eval("99999999999999999999"), Catch::Contains("out of range"));
  CHECK_THROWS_WITH(eval("1.5"), Catch::Contains("only integers"));
  CHECK_THROWS_WITH(eval("(1 + 2"), Catch::Contains("missing ')'"));
  CHECK_THROWS_WITH(eval("1 +"), Catch::Contains("ends early"));
  CHECK_THROWS_WITH(eval("1 2"), Catch::Contains("column 3"));
  CHECK_THROWS_WITH(eval("x"), Catch::Contains("unknown template or variable 'x'"));
  CHECK_THROWS_WITH(eval("'a' + 1"), Catch::Contains("cannot add"));
  CHECK_THROWS_WITH(eval("'a' * 2"), Catch::Contains("needs integers"));
  CHECK_THROWS_WITH(eval("2 ** 3"), Catch::Contains("not supported"));
  CHECK_THROWS_WITH(eval("'open"), Catch::Contains("unterminated"));
  CHECK_THROWS_WITH(eval(std::string(100, '(') + "1" + std::string(100, ')')), Catch::Contains("too deeply"));
}

TEST_CASE("templates render text around expressions and keep a lone integer's type") {
  const TemplateTable templates;
  const Variables variables{{"i", std::int64_t{7}}, {"name", std::string("t")}};
  const TemplateScope scope(templates, variables);
  CHECK(Template::compile("plain").is_literal());
  CHECK(Template::compile("k{{i}}/{{ name }}.{{i * 2}}").render(scope) == "k7/t.14");
  CHECK(std::get<std::int64_t>(Template::compile("{{ i + 1 }}").evaluate(scope)) == 8);
  CHECK(std::get<std::string>(Template::compile("x{{ i }}").evaluate(scope)) == "x7");
  CHECK(Template::compile("a { b } {c}").render(scope) == "a { b } {c}");
  CHECK(Template::compile("{{ '}}' }}").render(scope) == "}}");
  CHECK_THROWS_WITH(Template::compile("a{{ i"), Catch::Contains("without a closing"));
  CHECK_THROWS_WITH(Template::compile("{% if x %}"), Catch::Contains("not supported"));
}

TEST_CASE("templates with parameters are called with keyword arguments") {
  TemplateTable templates;
  templates.emplace("u", Template::compile("server/path"));
  templates.emplace("f", Template::compile("{{c}}-{{n * 2}}"));
  const Variables none;
  const TemplateScope scope(templates, none);
  CHECK(Template::compile("http://{{u}}").render(scope) == "http://server/path");
  CHECK(Template::compile("{{f(c='text', n=21)}}").render(scope) == "text-42");
  CHECK_THROWS_WITH(Template::compile("{{f}}").render(scope), Catch::Contains("has parameters"));
  CHECK_THROWS_WITH(Template::compile("{{f(c='x')}}").render(scope), Catch::Contains("unknown template argument 'n'"));
  CHECK_THROWS_WITH(Template::compile("{{g(c=1)}}").render(scope), Catch::Contains("unknown template 'g'"));
}
