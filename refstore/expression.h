// The expression language inside "{{ ... }}" in version-1 reference sets: the subset of Jinja that
// kerchunk writes. Integers (64-bit, checked), quoted strings, names, + - * // % with Python's
// floor semantics, parentheses, and template calls with keyword arguments: f(c='text').
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace kerchunkfs::refstore {

using ExprValue = std::variant<std::int64_t, std::string>;

class ExpressionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using CallArguments = std::span<const std::pair<std::string_view, ExprValue>>;

// What names mean while an expression is evaluated.
class ExprScope {
 public:
  virtual ~ExprScope() = default;
  // The value bound to `name`; throws ExpressionError when the name is unknown.
  virtual ExprValue value_of(std::string_view name) const = 0;
  // The result of calling the template `name`; throws ExpressionError when it cannot be called.
  virtual ExprValue call(std::string_view name, CallArguments arguments) const = 0;
};

std::string to_text(const ExprValue& value);

class Expression {
 public:
  // Throws ExpressionError naming the column (1-based, within `text`) of the first problem.
  static Expression parse(std::string_view text);
  ExprValue evaluate(const ExprScope& scope) const;

 private:
  enum class Op : std::uint8_t { Literal, Name, Call, Negate, Add, Subtract, Multiply, FloorDivide, Modulo };
  struct Node {
    Op op;
    std::uint32_t left = 0;   // operand index; for Call: first argument index in `arguments_`
    std::uint32_t right = 0;  // operand index; for Call: argument count
    ExprValue literal;        // Literal: the value; Name and Call: the name as a string
  };
  struct Argument {
    std::string name;
    std::uint32_t node;
  };
  class Parser;

  ExprValue evaluate_node(std::uint32_t index, const ExprScope& scope) const;

  std::vector<Node> nodes_;
  std::vector<Argument> arguments_;
  std::uint32_t root_ = 0;
};

}  // namespace kerchunkfs::refstore
