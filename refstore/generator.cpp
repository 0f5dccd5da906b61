#include "refstore/generator.h"

#include <charconv>
#include <optional>
#include <system_error>
#include <vector>

#include "refstore/load_error.h"
#include "refstore/store_data.h"
#include "refstore/store_target.h"

namespace kerchunkfs::refstore {
namespace {

namespace od = simdjson::ondemand;

std::string_view trim_trailing_space(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::string describe(const Variables& variables) {
  std::string out;
  for (const auto& [name, value] : variables) {
    out += (out.empty() ? "" : ", ") + name + "=" + to_text(value);
  }
  return out;
}

class Generator {
 public:
  explicit Generator(const GenerateContext& context) : context_(context) {}

  struct Dimension {
    std::string name;
    std::vector<ExprValue> values;
  };

  void expand(od::object& object, const std::string& context) {
    std::optional<Template> key_template, url_template, offset_template, length_template;
    std::vector<Dimension> dimensions;
    bool has_dimensions = false;
    for (auto field : object) {
      std::string_view name;
      check(field.unescaped_key().get(name), context);
      od::value value;
      check(field.value().get(value), context);
      if (name == "dimensions") {
        has_dimensions = true;
        dimensions = read_dimensions(value, context);
        continue;
      }
      std::optional<Template>* slot = name == "key"      ? &key_template
                                      : name == "url"    ? &url_template
                                      : name == "offset" ? &offset_template
                                      : name == "length" ? &length_template
                                                         : nullptr;
      if (slot == nullptr) continue;  // unknown fields are ignored, as fsspec does
      std::string_view text = value.raw_json_token();
      std::int64_t integer = 0;
      if (value.get_int64().get(integer) == simdjson::SUCCESS) {
        text = trim_trailing_space(text);
      } else if (value.get_string().get(text) != simdjson::SUCCESS) {
        throw LoadError(context + ": \"" + std::string(name) + "\" must be a string or an integer" +
                        context_.location());
      }
      try {
        *slot = Template::compile(text);
      } catch (const ExpressionError& error) {
        throw LoadError(context + ": \"" + std::string(name) + "\": " + error.what());
      }
    }
    if (!key_template || !url_template) throw LoadError(context + ": \"key\" and \"url\" are required");
    if (!has_dimensions) throw LoadError(context + ": \"dimensions\" is required");
    if (offset_template.has_value() != length_template.has_value()) {
      throw LoadError(context + ": \"offset\" and \"length\" go together: give both or neither");
    }

    std::uint64_t total = 1;
    for (const auto& dimension : dimensions) {
      if (__builtin_mul_overflow(total, dimension.values.size(), &total) || total > context_.max_keys) {
        throw LoadError(context + ": the dimensions generate more than " + std::to_string(context_.max_keys) +
                        " keys (the limit; see max_keys)");
      }
    }
    if (total == 0) return;

    Variables variables;
    for (const auto& dimension : dimensions) variables.emplace_back(dimension.name, dimension.values.front());
    std::vector<std::size_t> position(dimensions.size(), 0);
    const TemplateScope scope(context_.templates, variables);
    std::string key, url;
    for (std::uint64_t done = 0; done < total; ++done) {
      try {
        key.clear();
        key_template->render_append(scope, key);
        url.clear();
        url_template->render_append(scope, url);
        context_.builder.add_file(key);
        const std::uint32_t url_id = context_.builder.intern_url(url);
        if (offset_template) {
          context_.builder.set_range(url_id, generated_size(*offset_template, scope, "offset"),
                                     generated_size(*length_template, scope, "length"));
        } else {
          context_.builder.set_whole_file(url_id);
        }
      } catch (const ExpressionError& error) {
        throw LoadError(context + " (" + describe(variables) + "): " + error.what());
      } catch (const LoadError& error) {
        throw LoadError(context + " (" + describe(variables) + "): " + error.what());
      }
      // Odometer over the cartesian product; the last dimension varies fastest, as in itertools.product.
      for (std::size_t d = dimensions.size(); d-- > 0;) {
        if (++position[d] < dimensions[d].values.size()) {
          variables[d].second = dimensions[d].values[position[d]];
          break;
        }
        position[d] = 0;
        variables[d].second = dimensions[d].values.front();
      }
    }
  }

  static std::uint64_t generated_size(const Template& text, const TemplateScope& scope, const char* what) {
    const ExprValue value = text.evaluate(scope);
    std::int64_t number = 0;
    if (const auto* integer = std::get_if<std::int64_t>(&value)) {
      number = *integer;
    } else {
      const std::string& rendered = std::get<std::string>(value);
      const auto [end, error] = std::from_chars(rendered.data(), rendered.data() + rendered.size(), number);
      if (error != std::errc{} || end != rendered.data() + rendered.size() || rendered.empty()) {
        throw ExpressionError(std::string(what) + " " + quote(rendered) + " is not an integer");
      }
    }
    if (number < 0 || static_cast<std::uint64_t>(number) > kMaxField - 1) {
      throw ExpressionError(std::string(what) + " " + std::to_string(number) + " is negative or too large");
    }
    return static_cast<std::uint64_t>(number);
  }

  std::vector<Dimension> read_dimensions(od::value& value, const std::string& context) {
    od::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) {
      throw LoadError(context + ": \"dimensions\" must be an object" + context_.location());
    }
    std::vector<Dimension> dimensions;
    for (auto field : object) {
      Dimension dimension;
      std::string_view name;
      check(field.unescaped_key().get(name), context);
      dimension.name = name;
      const std::string where = context + ": dimension " + quote(name);
      od::value spec;
      check(field.value().get(spec), where);
      od::json_type type{};
      check(spec.type().get(type), where);
      if (type == od::json_type::array) {
        od::array array;
        check(spec.get_array().get(array), where);
        for (auto element : array) {
          od::value item;
          check(element.get(item), where);
          std::int64_t integer = 0;
          std::string_view text;
          if (item.get_int64().get(integer) == simdjson::SUCCESS) {
            dimension.values.emplace_back(integer);
          } else if (item.get_string().get(text) == simdjson::SUCCESS) {
            dimension.values.emplace_back(std::string(text));
          } else {
            throw LoadError(where + ": list items must be integers or strings" + context_.location());
          }
          if (dimension.values.size() > context_.max_keys) {
            throw LoadError(where + ": more than " + std::to_string(context_.max_keys) +
                            " values (the limit; see max_keys)");
          }
        }
      } else if (type == od::json_type::object) {
        dimension.values = read_range(spec, where);
      } else {
        throw LoadError(where + ": must be {\"start\", \"stop\", \"step\"} or a list" + context_.location());
      }
      dimensions.push_back(std::move(dimension));
    }
    if (dimensions.empty()) throw LoadError(context + ": \"dimensions\" needs at least one dimension");
    return dimensions;
  }

  std::vector<ExprValue> read_range(od::value& spec, const std::string& where) {
    std::int64_t start = 0, step = 1;
    std::optional<std::int64_t> stop;
    od::object object;
    check(spec.get_object().get(object), where);
    for (auto field : object) {
      std::string_view name;
      check(field.unescaped_key().get(name), where);
      std::int64_t number = 0;
      if (field.value().get_int64().get(number) != simdjson::SUCCESS) {
        throw LoadError(where + ": \"" + std::string(name) + "\" must be an integer" + context_.location());
      }
      if (name == "start") {
        start = number;
      } else if (name == "stop") {
        stop = number;
      } else if (name == "step") {
        step = number;
      }
    }
    if (!stop) throw LoadError(where + ": \"stop\" is required");
    if (step == 0) throw LoadError(where + ": \"step\" must not be 0");
    // Python's range(start, stop, step), in unsigned arithmetic so that no bound overflows.
    const bool ascending = step > 0;
    std::uint64_t count = 0;
    if (ascending ? stop > start : *stop < start) {
      const std::uint64_t span = ascending ? static_cast<std::uint64_t>(*stop) - static_cast<std::uint64_t>(start)
                                           : static_cast<std::uint64_t>(start) - static_cast<std::uint64_t>(*stop);
      const std::uint64_t stride = ascending ? static_cast<std::uint64_t>(step) : 0 - static_cast<std::uint64_t>(step);
      count = (span - 1) / stride + 1;
    }
    if (count > context_.max_keys) {
      throw LoadError(where + ": the range has " + std::to_string(count) + " values, more than the limit of " +
                      std::to_string(context_.max_keys) + " (see max_keys)");
    }
    std::vector<ExprValue> values;
    values.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      values.emplace_back(
          static_cast<std::int64_t>(static_cast<std::uint64_t>(start) + i * static_cast<std::uint64_t>(step)));
    }
    return values;
  }

 private:
  // simdjson failures become one line naming what was being read and where in the file.
  void check(simdjson::error_code error, std::string_view context) const {
    if (error != simdjson::SUCCESS) {
      throw LoadError((context.empty() ? "" : std::string(context) + ": ") + "invalid JSON (" +
                      simdjson::error_message(error) + ")" + context_.location());
    }
  }

  const GenerateContext& context_;
};

}  // namespace

void expand_generator(od::object& object, const std::string& context, const GenerateContext& generate) {
  Generator(generate).expand(object, context);
}

}  // namespace kerchunkfs::refstore
