// JSON → RefStore: reference spec version 0 (flat {key: value}) and version 1 (templates, gen,
// refs), read with simdjson's On-Demand API so the document is never materialised as a tree.
#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <limits>

#include "refstore/base64.h"
#include "refstore/load_error.h"
#include "refstore/mapped_input.h"
#include "refstore/refstore.h"
#include "refstore/store_data.h"
#include "refstore/template.h"

namespace kerchunkfs::refstore {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kBase64Prefix = "base64:";

std::string_view trim_trailing_space(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// The text of a JSON string whose content starts at `content` (just after its opening quote),
// when it has no escape sequence and so can be used where it lies, without unescaping.
std::optional<std::string_view> text_in_place(const char* content, const char* end) {
  const auto* quote = static_cast<const char*>(std::memchr(content, '"', static_cast<std::size_t>(end - content)));
  if (quote == nullptr || std::memchr(content, '\\', static_cast<std::size_t>(quote - content)) != nullptr) {
    return std::nullopt;
  }
  return std::string_view(content, static_cast<std::size_t>(quote - content));
}

std::string describe(const Variables& variables) {
  std::string out;
  for (const auto& [name, value] : variables) {
    out += (out.empty() ? "" : ", ") + name + "=" + to_text(value);
  }
  return out;
}

class Parser {
 public:
  Parser(simdjson::padded_string_view json, StoreBuilder& builder, std::uint64_t max_keys)
      : json_(json), builder_(builder), max_keys_(std::min<std::uint64_t>(max_keys, kMaxNodes)) {}

  void run() {
    check(parser_.iterate(json_).get(doc_), "");
    iterating_ = true;
    od::object top;
    if (const auto error = doc_.get_object().get(top); error == simdjson::INCORRECT_TYPE) {
      throw LoadError("the top level must be a JSON object" + location());
    } else {
      check(error, "");
    }
    auto version = top.find_field_unordered("version");
    if (version.error() == simdjson::NO_SUCH_FIELD) {
      doc_.rewind();
      read_version0();
      return;
    }
    od::value version_value;
    check(version.get(version_value), "\"version\"");
    std::int64_t number = 0;
    if (version_value.get_int64().get(number) != simdjson::SUCCESS || number != 1) {
      throw LoadError("unsupported reference spec version " +
                      std::string(trim_trailing_space(version_value.raw_json_token())) +
                      " (supported: 0, written without a version, and 1)");
    }
    read_version1(top);
  }

 private:
  // simdjson failures become one line naming what was being read and where in the file.
  void check(simdjson::error_code error, std::string_view context) {
    if (error != simdjson::SUCCESS) fail(error, std::string(context));
  }
  // On the hot path: the key's context is only formatted when there is an error to report.
  void check_key(simdjson::error_code error, std::string_view key) {
    if (error != simdjson::SUCCESS) fail(error, "key " + quote(key));
  }
  [[noreturn]] void fail(simdjson::error_code error, const std::string& context) {
    throw LoadError((context.empty() ? "" : context + ": ") + "invalid JSON (" + simdjson::error_message(error) + ")" +
                    location());
  }

  std::string location() {
    // A document whose iteration never started has no position to ask for.
    const char* at = nullptr;
    if (!iterating_ || doc_.current_location().get(at) != simdjson::SUCCESS) return "";
    return position_of(at);
  }

  std::string position_of(const char* at) const {
    if (at < json_.data() || at > json_.data() + json_.size()) return "";
    std::size_t line = 1;
    const char* line_start = json_.data();
    for (const char* p = json_.data(); p < at; ++p) {
      if (*p == '\n') {
        ++line;
        line_start = p + 1;
      }
    }
    return " at line " + std::to_string(line) + ", column " + std::to_string(at - line_start + 1);
  }

  template <class Field>
  std::string_view key_of(Field& field) {
    od::raw_json_string raw;
    check(field.key().get(raw), "a key");
    if (const auto in_place = text_in_place(raw.raw(), json_end())) return *in_place;
    std::string_view key;
    check(field.unescaped_key().get(key), "a key");
    return key;
  }

  const char* json_end() const { return json_.data() + json_.size(); }

  void read_version0() {
    od::object top;
    check(doc_.get_object().get(top), "");
    for (auto field : top) {
      const std::string_view key = key_of(field);
      od::value value;
      check_key(field.value().get(value), key);
      add_entry(key, value);
    }
    // Only the end of input has no current location.
    if (doc_.current_location().error() != simdjson::OUT_OF_BOUNDS) {
      throw LoadError("unexpected content after the top-level object" + location());
    }
  }

  void read_version1(od::object& top) {
    auto templates = top.find_field_unordered("templates");
    if (templates.error() != simdjson::NO_SUCH_FIELD) {
      od::object object;
      check(templates.get_object().get(object), "\"templates\" must be an object");
      for (auto field : object) {
        std::string_view name;
        check(field.unescaped_key().get(name), "\"templates\"");
        std::string_view text;
        if (field.value().get_string().get(text) != simdjson::SUCCESS) {
          throw LoadError("template " + quote(name) + ": the value must be a string" + location());
        }
        try {
          templates_.insert_or_assign(std::string(name), Template::compile(text));
        } catch (const ExpressionError& error) {
          throw LoadError("template " + quote(name) + ": " + error.what());
        }
      }
    }

    auto refs = top.find_field_unordered("refs");
    if (refs.error() != simdjson::NO_SUCH_FIELD) {
      od::object object;
      check(refs.get_object().get(object), "\"refs\" must be an object");
      for (auto field : object) {
        const std::string_view key = key_of(field);
        od::value value;
        check_key(field.value().get(value), key);
        add_entry(key, value);
      }
    }

    auto gen = top.find_field_unordered("gen");
    if (gen.error() != simdjson::NO_SUCH_FIELD) {
      od::array array;
      check(gen.get_array().get(array), "\"gen\" must be an array");
      std::size_t index = 0;
      for (auto element : array) {
        od::object object;
        check(element.get_object().get(object), "gen[" + std::to_string(index) + "] must be an object");
        read_generator(object, "gen[" + std::to_string(index) + "]");
        ++index;
      }
    }
  }

  void add_entry(std::string_view key, od::value& value) {
    od::json_type type{};
    check_key(value.type().get(type), key);
    switch (type) {
      case od::json_type::string: {
        std::string_view text;
        check_key(value.get_string().get(text), key);
        const NodeId node = builder_.add_file(key);
        if (text.starts_with(kBase64Prefix)) {
          std::string& arena = builder_.inline_arena();
          const std::size_t start = arena.size();
          if (!base64_decode_append(text.substr(kBase64Prefix.size()), arena)) {
            throw LoadError("key " + quote(key) + ": invalid base64 data");
          }
          builder_.set_inline_from(node, start);
        } else {
          builder_.set_inline(node, text);
        }
        return;
      }
      case od::json_type::array: {
        od::array array;
        check_key(value.get_array().get(array), key);
        if (looks_like_reference(value.raw_json_token())) {
          add_reference(key, array);
        } else {
          add_json_text(key, array);
        }
        return;
      }
      case od::json_type::object: {
        od::object object;
        check_key(value.get_object().get(object), key);
        add_json_text(key, object);
        return;
      }
      default:
        // Numbers, booleans and null are JSON texts too.
        builder_.set_inline(builder_.add_file(key), trim_trailing_space(value.raw_json_token()));
        return;
    }
  }

  // On-Demand skips over an object or array without validating it, and its text becomes a file
  // that a zarr reader will parse, so it is validated here. Such values are metadata: few.
  template <class Container>  // od::array or od::object
  void add_json_text(std::string_view key, Container& container) {
    std::string_view text;
    check_key(container.raw_json().get(text), key);
    text = trim_trailing_space(text);
    simdjson::dom::element ignored;
    if (const auto error = validator_.parse(text.data(), text.size()).get(ignored); error != simdjson::SUCCESS) {
      throw LoadError("key " + quote(key) + ": invalid JSON in the value (" + simdjson::error_message(error) + ")" +
                      position_of(text.data()));
    }
    builder_.set_inline(builder_.add_file(key), text);
  }

  // An array is a reference when its first element is a URL: a string, or null for the default.
  static bool looks_like_reference(std::string_view token) {
    std::size_t i = 1;
    while (i < token.size() && (token[i] == ' ' || token[i] == '\n' || token[i] == '\r' || token[i] == '\t')) ++i;
    const char first = token.data()[i];  // the input is padded, so this stays in bounds
    return first == '"' || first == 'n';
  }

  void add_reference(std::string_view key, od::array& array) {
    std::string_view url;
    bool null_url = false;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    std::size_t count = 0;
    for (auto element : array) {
      od::value value;
      check_key(element.get(value), key);
      switch (count) {
        case 0: {
          const std::string_view token = value.raw_json_token();
          if (repeats_previous_url(token)) {
            url = previous_url_;
          } else if (const auto in_place =
                         token.starts_with('"') ? text_in_place(token.data() + 1, json_end()) : std::nullopt) {
            url = previous_url_ = *in_place;
          } else if (bool is_null = false; value.is_null().get(is_null) == simdjson::SUCCESS && is_null) {
            null_url = true;
          } else if (value.get_string().get(url) != simdjson::SUCCESS) {
            throw LoadError("key " + quote(key) + ": the reference URL must be a string or null" + location());
          }
          break;
        }
        case 1:
          offset = read_size(value, key, "offset");
          break;
        case 2:
          length = read_size(value, key, "length");
          break;
        default:
          throw LoadError("key " + quote(key) + ": a reference is [url] or [url, offset, length], not " +
                          std::to_string(count + 1) + "+ elements");
      }
      ++count;
    }
    if (count != 1 && count != 3) {
      throw LoadError("key " + quote(key) + ": a reference is [url] or [url, offset, length], not " +
                      std::to_string(count) + " elements");
    }
    const NodeId node = builder_.add_file(key);
    const std::uint32_t url_id = null_url ? builder_.null_url(key) : intern_rendered(url, key);
    if (count == 1) {
      builder_.set_whole_file(node, url_id);
    } else {
      builder_.set_range(node, url_id, offset, length);
    }
  }

  // Neighbouring references usually name the same file: one comparison, and no scan for the
  // string's end, recognises it.
  bool repeats_previous_url(std::string_view token) const {
    return !previous_url_.empty() && token.size() >= previous_url_.size() + 2 && token[0] == '"' &&
           token[previous_url_.size() + 1] == '"' && token.substr(1, previous_url_.size()) == previous_url_;
  }

  std::uint64_t read_size(od::value& value, std::string_view key, const char* what) {
    std::uint64_t number = 0;
    const auto error = value.get_uint64().get(number);
    if (error == simdjson::SUCCESS && number <= kMaxField - 1) return number;
    const std::string_view token = trim_trailing_space(value.raw_json_token());
    const bool all_digits = !token.empty() && token.find_first_not_of("0123456789") == std::string_view::npos;
    const char* problem = all_digits ? "is too large (the limit is 2^48 - 2)" : "must be a non-negative integer";
    throw LoadError("key " + quote(key) + ": " + what + " " + std::string(token) + " " + problem + location());
  }

  std::uint32_t intern_rendered(std::string_view url, std::string_view key) {
    if (templates_.empty() || url.find("{{") == std::string_view::npos) return builder_.intern_url(url);
    try {
      return builder_.intern_url(Template::compile(url).render(TemplateScope(templates_, no_variables_)));
    } catch (const ExpressionError& error) {
      throw LoadError("key " + quote(key) + ": URL " + quote(url) + ": " + error.what());
    }
  }

  struct Dimension {
    std::string name;
    std::vector<ExprValue> values;
  };

  void read_generator(od::object& object, const std::string& context) {
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
        throw LoadError(context + ": \"" + std::string(name) + "\" must be a string or an integer" + location());
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
      if (__builtin_mul_overflow(total, dimension.values.size(), &total) || total > max_keys_) {
        throw LoadError(context + ": the dimensions generate more than " + std::to_string(max_keys_) +
                        " keys (the limit; see max_keys)");
      }
    }
    if (total == 0) return;

    Variables variables;
    for (const auto& dimension : dimensions) variables.emplace_back(dimension.name, dimension.values.front());
    std::vector<std::size_t> position(dimensions.size(), 0);
    const TemplateScope scope(templates_, variables);
    std::string key, url;
    for (std::uint64_t done = 0; done < total; ++done) {
      try {
        key.clear();
        key_template->render_append(scope, key);
        url.clear();
        url_template->render_append(scope, url);
        const NodeId node = builder_.add_file(key);
        const std::uint32_t url_id = builder_.intern_url(url);
        if (offset_template) {
          builder_.set_range(node, url_id, generated_size(*offset_template, scope, "offset"),
                             generated_size(*length_template, scope, "length"));
        } else {
          builder_.set_whole_file(node, url_id);
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
      throw LoadError(context + ": \"dimensions\" must be an object" + location());
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
            throw LoadError(where + ": list items must be integers or strings" + location());
          }
          if (dimension.values.size() > max_keys_) {
            throw LoadError(where + ": more than " + std::to_string(max_keys_) + " values (the limit; see max_keys)");
          }
        }
      } else if (type == od::json_type::object) {
        dimension.values = read_range(spec, where);
      } else {
        throw LoadError(where + ": must be {\"start\", \"stop\", \"step\"} or a list" + location());
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
        throw LoadError(where + ": \"" + std::string(name) + "\" must be an integer" + location());
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
    if (count > max_keys_) {
      throw LoadError(where + ": the range has " + std::to_string(count) + " values, more than the limit of " +
                      std::to_string(max_keys_) + " (see max_keys)");
    }
    std::vector<ExprValue> values;
    values.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      values.emplace_back(
          static_cast<std::int64_t>(static_cast<std::uint64_t>(start) + i * static_cast<std::uint64_t>(step)));
    }
    return values;
  }

  simdjson::padded_string_view json_;
  StoreBuilder& builder_;
  od::parser parser_;
  od::document doc_;
  simdjson::dom::parser validator_;
  bool iterating_ = false;
  std::uint64_t max_keys_;
  TemplateTable templates_;
  const Variables no_variables_;
  std::string_view previous_url_;  // the last URL taken in place from the input: no escapes
};

RefStore parse_padded(simdjson::padded_string_view json, const LoadOptions& options) {
  // Every key costs at least six bytes of JSON ("k":"",), so this bounds a version-0 set's
  // nodes; generated sets grow past it as needed.
  StoreBuilder builder(json.size() / 8, options.max_keys);
  Parser(json, builder, options.max_keys).run();
  return builder.finish(options);
}

}  // namespace

common::Result<RefStore> RefStore::parse(std::string_view json, const LoadOptions& options) {
  try {
    const simdjson::padded_string padded(json);
    return parse_padded(padded, options);
  } catch (const LoadError& error) {
    return common::Error{error.what(), EINVAL};
  }
}

common::Result<RefStore> RefStore::load_file(const std::string& path, const LoadOptions& options) {
  try {
    const MappedInput input(path);  // its errors name the file already
    try {
      return parse_padded(input.view(), options);
    } catch (const LoadError& error) {
      return common::Error{path + ": " + error.what(), EINVAL};
    }
  } catch (const LoadError& error) {
    return common::Error{error.what(), EINVAL};
  }
}

}  // namespace kerchunkfs::refstore
