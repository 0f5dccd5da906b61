#include "refstore/expression.h"

#include <cctype>
#include <charconv>
#include <limits>

namespace kerchunkfs::refstore {
namespace {

// Deep nesting is refused rather than allowed to exhaust the stack.
constexpr int kMaxDepth = 64;

[[noreturn]] void fail(std::size_t column, const std::string& what) {
  throw ExpressionError("column " + std::to_string(column + 1) + ": " + what);
}

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::int64_t as_integer(const ExprValue& value, const char* operation) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return *integer;
  throw ExpressionError(std::string("operator ") + operation + " needs integers, got the string '" +
                        std::get<std::string>(value) + "'");
}

std::int64_t floor_divide(std::int64_t a, std::int64_t b) {
  if (b == 0) throw ExpressionError("division by zero");
  if (a == std::numeric_limits<std::int64_t>::min() && b == -1) throw ExpressionError("integer overflow");
  std::int64_t quotient = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --quotient;
  return quotient;
}

std::int64_t floor_modulo(std::int64_t a, std::int64_t b) {
  if (b == 0) throw ExpressionError("modulo by zero");
  if (b == -1) return 0;
  std::int64_t remainder = a % b;
  if (remainder != 0 && ((remainder < 0) != (b < 0))) remainder += b;
  return remainder;
}

}  // namespace

std::string to_text(const ExprValue& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return std::to_string(*integer);
  return std::get<std::string>(value);
}

class Expression::Parser {
 public:
  Parser(std::string_view text, Expression& out) : text_(text), out_(out) {}

  std::uint32_t parse_all() {
    const std::uint32_t root = parse_sum(0);
    skip_space();
    if (pos_ < text_.size()) fail(pos_, "unexpected '" + std::string(1, text_[pos_]) + "'");
    return root;
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  bool accept(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }

  std::uint32_t add(Op op, std::uint32_t left, std::uint32_t right, ExprValue literal = std::int64_t{0}) {
    out_.nodes_.push_back(Node{op, left, right, std::move(literal)});
    return static_cast<std::uint32_t>(out_.nodes_.size() - 1);
  }

  std::uint32_t parse_sum(int depth) {
    std::uint32_t left = parse_product(depth);
    while (true) {
      if (accept("+")) {
        left = add(Op::Add, left, parse_product(depth));
      } else if (accept("-")) {
        left = add(Op::Subtract, left, parse_product(depth));
      } else {
        return left;
      }
    }
  }

  std::uint32_t parse_product(int depth) {
    std::uint32_t left = parse_unary(depth);
    while (true) {
      if (accept("*")) {
        if (pos_ < text_.size() && text_[pos_] == '*') fail(pos_, "'**' is not supported");
        left = add(Op::Multiply, left, parse_unary(depth));
      } else if (accept("//")) {
        left = add(Op::FloorDivide, left, parse_unary(depth));
      } else if (accept("/")) {
        fail(pos_ - 1, "'/' is true division and gives no integer; use '//'");
      } else if (accept("%")) {
        left = add(Op::Modulo, left, parse_unary(depth));
      } else {
        return left;
      }
    }
  }

  std::uint32_t parse_unary(int depth) {
    if (depth > kMaxDepth) fail(pos_, "expression nested too deeply");
    if (accept("-")) return add(Op::Negate, parse_unary(depth + 1), 0);
    if (accept("+")) return parse_unary(depth + 1);
    return parse_primary(depth);
  }

  std::uint32_t parse_primary(int depth) {
    skip_space();
    if (pos_ >= text_.size()) fail(pos_, "expression ends early");
    const char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      const std::uint32_t inner = parse_sum(depth + 1);
      if (!accept(")")) fail(pos_, "missing ')'");
      return inner;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) return parse_integer();
    if (c == '\'' || c == '"') return parse_string();
    if (is_name_start(c)) return parse_name_or_call(depth);
    fail(pos_, "unexpected '" + std::string(1, c) + "'");
  }

  std::uint32_t parse_integer() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text_.data() + start, text_.data() + pos_, value);
    if (error != std::errc{} || end != text_.data() + pos_) fail(start, "integer out of range");
    if (pos_ < text_.size() && (is_name_char(text_[pos_]) || text_[pos_] == '.')) {
      fail(pos_, "only integers are supported");
    }
    return add(Op::Literal, 0, 0, value);
  }

  std::uint32_t parse_string() {
    const char quote = text_[pos_];
    const std::size_t start = pos_++;
    std::string value;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\') {
        if (++pos_ >= text_.size()) break;
      }
      value.push_back(text_[pos_++]);
    }
    if (pos_ >= text_.size()) fail(start, "unterminated string");
    ++pos_;
    return add(Op::Literal, 0, 0, std::move(value));
  }

  std::uint32_t parse_name_or_call(int depth) {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
    std::string name(text_.substr(start, pos_ - start));
    if (!accept("(")) return add(Op::Name, 0, 0, std::move(name));

    std::vector<Argument> arguments;
    if (!accept(")")) {
      do {
        skip_space();
        const std::size_t name_start = pos_;
        while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
        if (name_start == pos_ || !is_name_start(text_[name_start])) {
          fail(name_start, "template arguments are written name=value");
        }
        std::string argument_name(text_.substr(name_start, pos_ - name_start));
        if (!accept("=")) fail(pos_, "template arguments are written name=value");
        arguments.push_back(Argument{std::move(argument_name), parse_sum(depth + 1)});
      } while (accept(","));
      if (!accept(")")) fail(pos_, "missing ')' after template arguments");
    }
    const auto first = static_cast<std::uint32_t>(out_.arguments_.size());
    for (auto& argument : arguments) out_.arguments_.push_back(std::move(argument));
    return add(Op::Call, first, static_cast<std::uint32_t>(arguments.size()), std::move(name));
  }

  std::string_view text_;
  Expression& out_;
  std::size_t pos_ = 0;
};

Expression Expression::parse(std::string_view text) {
  Expression expression;
  Parser parser(text, expression);
  expression.root_ = parser.parse_all();
  return expression;
}

ExprValue Expression::evaluate(const ExprScope& scope) const { return evaluate_node(root_, scope); }

ExprValue Expression::evaluate_node(std::uint32_t index, const ExprScope& scope) const {
  const Node& node = nodes_[index];
  switch (node.op) {
    case Op::Literal:
      return node.literal;
    case Op::Name:
      return scope.value_of(std::get<std::string>(node.literal));
    case Op::Call: {
      std::vector<std::pair<std::string_view, ExprValue>> arguments;
      arguments.reserve(node.right);
      for (std::uint32_t i = 0; i < node.right; ++i) {
        const Argument& argument = arguments_[node.left + i];
        arguments.emplace_back(argument.name, evaluate_node(argument.node, scope));
      }
      return scope.call(std::get<std::string>(node.literal), arguments);
    }
    case Op::Negate: {
      const std::int64_t value = as_integer(evaluate_node(node.left, scope), "-");
      if (value == std::numeric_limits<std::int64_t>::min()) throw ExpressionError("integer overflow");
      return -value;
    }
    default:
      break;
  }

  ExprValue left = evaluate_node(node.left, scope);
  ExprValue right = evaluate_node(node.right, scope);
  if (node.op == Op::Add && std::holds_alternative<std::string>(left)) {
    if (!std::holds_alternative<std::string>(right)) {
      throw ExpressionError("cannot add an integer to the string '" + std::get<std::string>(left) + "'");
    }
    return std::get<std::string>(left) + std::get<std::string>(right);
  }
  static constexpr const char* kSymbols[] = {"", "", "", "", "+", "-", "*", "//", "%"};
  const char* symbol = kSymbols[static_cast<int>(node.op)];
  const std::int64_t a = as_integer(left, symbol);
  const std::int64_t b = as_integer(right, symbol);
  std::int64_t result = 0;
  switch (node.op) {
    case Op::Add:
      if (__builtin_add_overflow(a, b, &result)) throw ExpressionError("integer overflow");
      return result;
    case Op::Subtract:
      if (__builtin_sub_overflow(a, b, &result)) throw ExpressionError("integer overflow");
      return result;
    case Op::Multiply:
      if (__builtin_mul_overflow(a, b, &result)) throw ExpressionError("integer overflow");
      return result;
    case Op::FloorDivide:
      return floor_divide(a, b);
    case Op::Modulo:
      return floor_modulo(a, b);
    default:
      throw ExpressionError("internal error: unknown operator");
  }
}

}  // namespace kerchunkfs::refstore
