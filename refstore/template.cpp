#include "refstore/template.h"

namespace kerchunkfs::refstore {
namespace {

// Where the "}}" closing an expression that starts at `from` is, skipping quoted strings.
std::size_t find_close(std::string_view text, std::size_t from) {
  char quote = 0;
  for (std::size_t i = from; i + 1 < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '}' && text[i + 1] == '}') {
      return i;
    }
  }
  return std::string_view::npos;
}

// Inside a called template only its keyword arguments are visible, as with a Jinja template
// rendered with those arguments alone.
class ArgumentScope final : public ExprScope {
 public:
  explicit ArgumentScope(CallArguments arguments) : arguments_(arguments) {}
  ExprValue value_of(std::string_view name) const override {
    for (const auto& [argument, value] : arguments_) {
      if (argument == name) return value;
    }
    throw ExpressionError("unknown template argument '" + std::string(name) + "'");
  }
  ExprValue call(std::string_view name, CallArguments) const override {
    throw ExpressionError("template '" + std::string(name) + "' cannot be called inside a template");
  }

 private:
  CallArguments arguments_;
};

}  // namespace

Template Template::compile(std::string_view text) {
  Template result;
  std::string literal;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find('{', pos);
    if (open == std::string_view::npos || open + 1 >= text.size()) {
      literal.append(text.substr(pos));
      break;
    }
    const char next = text[open + 1];
    if (next == '%' || next == '#') {
      throw ExpressionError("column " + std::to_string(open + 1) + ": Jinja statements and comments are not supported");
    }
    if (next != '{') {
      literal.append(text.substr(pos, open + 1 - pos));
      pos = open + 1;
      continue;
    }
    literal.append(text.substr(pos, open - pos));
    const std::size_t close = find_close(text, open + 2);
    if (close == std::string_view::npos) {
      throw ExpressionError("column " + std::to_string(open + 1) + ": '{{' without a closing '}}'");
    }
    try {
      result.expressions_.push_back(Expression::parse(text.substr(open + 2, close - open - 2)));
    } catch (const ExpressionError& error) {
      throw ExpressionError("in '{{" + std::string(text.substr(open + 2, close - open - 2)) + "}}': " + error.what());
    }
    result.literals_.push_back(std::move(literal));
    literal.clear();
    pos = close + 2;
  }
  result.literals_.push_back(std::move(literal));
  return result;
}

void Template::render_append(const ExprScope& scope, std::string& out) const {
  out.append(literals_[0]);
  for (std::size_t i = 0; i < expressions_.size(); ++i) {
    out.append(to_text(expressions_[i].evaluate(scope)));
    out.append(literals_[i + 1]);
  }
}

std::string Template::render(const ExprScope& scope) const {
  std::string out;
  render_append(scope, out);
  return out;
}

ExprValue Template::evaluate(const ExprScope& scope) const {
  if (expressions_.size() == 1 && literals_[0].empty() && literals_[1].empty()) {
    return expressions_[0].evaluate(scope);
  }
  return render(scope);
}

ExprValue TemplateScope::value_of(std::string_view name) const {
  for (const auto& [variable, value] : variables_) {
    if (variable == name) return value;
  }
  const auto found = templates_.find(name);
  if (found == templates_.end()) throw ExpressionError("unknown template or variable '" + std::string(name) + "'");
  if (!found->second.is_literal()) {
    throw ExpressionError("template '" + std::string(name) + "' has parameters; call it as " + std::string(name) +
                          "(name=value)");
  }
  return found->second.literal();
}

ExprValue TemplateScope::call(std::string_view name, CallArguments arguments) const {
  const auto found = templates_.find(name);
  if (found == templates_.end()) throw ExpressionError("unknown template '" + std::string(name) + "'");
  return found->second.render(ArgumentScope(arguments));
}

}  // namespace kerchunkfs::refstore
