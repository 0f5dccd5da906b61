// Jinja-style "{{ expression }}" templates for version-1 reference sets: URLs and keys that use
// the set's `templates`, and the key/url/offset/length of `gen` entries.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "refstore/expression.h"

namespace kerchunkfs::refstore {

class Template {
 public:
  // Throws ExpressionError naming the problem and its column within `text`.
  static Template compile(std::string_view text);

  bool is_literal() const { return expressions_.empty(); }
  const std::string& literal() const { return literals_.front(); }

  void render_append(const ExprScope& scope, std::string& out) const;
  std::string render(const ExprScope& scope) const;
  // A template that is one "{{ expression }}" and nothing else keeps the expression's type, so an
  // integer offset is used without formatting and parsing it again.
  ExprValue evaluate(const ExprScope& scope) const;

 private:
  std::vector<std::string> literals_;  // text around the expressions: one more than expressions_
  std::vector<Expression> expressions_;
};

using TemplateTable = std::map<std::string, Template, std::less<>>;
using Variables = std::vector<std::pair<std::string, ExprValue>>;

// Names visible to a reference URL or a gen entry: the gen variables, then the set's templates.
class TemplateScope final : public ExprScope {
 public:
  TemplateScope(const TemplateTable& templates, const Variables& variables)
      : templates_(templates), variables_(variables) {}
  ExprValue value_of(std::string_view name) const override;
  ExprValue call(std::string_view name, CallArguments arguments) const override;

 private:
  const TemplateTable& templates_;
  const Variables& variables_;
};

}  // namespace kerchunkfs::refstore
