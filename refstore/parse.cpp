// JSON → RefStore: reference spec version 0 (flat {key: value}) and version 1 (templates, gen,
// refs). The keys and references are read in one pass by JsonCursor, with nothing kept of the
// document but what the store holds: the entries through a reused read window, the rest where
// the document lies, its pages given back as the parse moves on (a set of ten million
// references peaks near its final index size); the small parts, templates and
// gen, are read with simdjson's On-Demand API, and nested JSON values validated by its DOM parser.
#include <simdjson.h>

#include <atomic>
#include <charconv>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>

#include "refstore/base64.h"
#include "refstore/generator.h"
#include "refstore/json_cursor.h"
#include "refstore/load_error.h"
#include "refstore/mapped_input.h"
#include "refstore/read_window.h"
#include "refstore/refstore.h"
#include "refstore/second_half.h"
#include "refstore/store_data.h"
#include "refstore/template.h"

namespace kerchunkfs::refstore {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kBase64Prefix = "base64:";

// Version-1 fields in an order one pass cannot follow (templates after the refs that use them,
// a version after other fields): the parse starts again, reading the fields where they lie.
struct NeedsFieldOrder {};

// How the parse reaches its input besides the whole document in memory (json_): pages it has
// read given back as it moves on, and copies of parts of it for the read window.
struct InputAccess {
  std::function<void(const char*)> before;              // everything before the position was read
  std::function<void(const char*, const char*)> range;  // [from, to) was read, by a second thread
  ReadWindow::Read read;                                // empty: copied from the document in memory
};

// How far from the middle of what is left the search for a place to split the entries goes.
constexpr std::ptrdiff_t kSplitSearch = 1 << 20;

class Parser {
 public:
  Parser(simdjson::padded_string_view json, StoreBuilder& builder, const LoadOptions& options, const InputAccess& input)
      : json_(json),
        cursor_(json.data(), json.data() + json.size()),
        builder_(builder),
        options_(options),
        input_(input),
        max_keys_(std::min<std::uint64_t>(options.max_keys, kMaxNodes)) {}

  // One pass, front to back: a version-0 set, or a version-1 set whose "version" comes first and
  // whose "templates" come before "refs" (as kerchunk writes them). Otherwise throws
  // NeedsFieldOrder.
  void run_in_order() {
    open_top_level();
    if (cursor_.next() == '}') {
      cursor_.skip_byte();
      return end_of_document();
    }
    const std::string_view first = read_key();
    if (first == "version") {
      read_version();
      return read_version1_in_order();
    }
    if (first == "templates" || first == "refs" || first == "gen") throw NeedsFieldOrder{};
    read_version0(first);
  }

  // Two passes: the top level's fields located first, then read in the order their meaning needs.
  void run_by_position() {
    open_top_level();
    std::vector<std::pair<std::string, const char*>> fields;  // name, where its value starts
    if (cursor_.next() == '}') {
      cursor_.skip_byte();
    } else {
      do {
        std::string name(read_key());
        fields.emplace_back(std::move(name), (cursor_.next(), cursor_.position()));
        (void)cursor_.value_text();
      } while (next_member());
    }
    end_of_document();
    const auto field = [&](std::string_view name) -> const char* {
      const char* found = nullptr;
      for (const auto& [field_name, value] : fields) {
        if (field_name != name) continue;
        if (found != nullptr) throw LoadError("the top-level field \"" + std::string(name) + "\" is given twice");
        found = value;
      }
      return found;
    };
    const char* version = field("version");
    if (version == nullptr) {  // version 0 after all, with a key named like a version-1 field
      cursor_ = JsonCursor(json_.data(), json_.data() + json_.size());
      open_top_level();
      return read_version0(read_key());
    }
    cursor_.move_to(version);
    read_version();
    if (const char* templates = field("templates")) read_templates(value_at(templates));
    if (const char* refs = field("refs")) {
      cursor_.move_to(refs);
      read_refs();
    }
    if (const char* gen = field("gen")) read_gen(value_at(gen));
    for (const auto& [name, value] : fields) {
      if (name != "version" && name != "templates" && name != "refs" && name != "gen") {
        validate(name, value_at(value));
      }
    }
  }

 private:
  void open_top_level() {
    if (cursor_.next() != '{') cursor_.fail("the top level must be a JSON object");
    cursor_.skip_byte();
  }

  void end_of_document() {
    if (cursor_.next() != '\0' || cursor_.position() != cursor_.end()) {
      cursor_.fail("unexpected content after the top-level object");
    }
  }

  // The key of an object member, and the colon after it.
  std::string_view read_key() {
    const std::string_view key = cursor_.string(key_scratch_);
    cursor_.expect(':', "':' after a key");
    return key;
  }

  // After a member: true past a comma, false past the closing brace.
  bool next_member() {
    const char next = cursor_.next();
    if (next != ',' && next != '}') cursor_.fail("expected ',' or '}' after an object member");
    cursor_.skip_byte();
    return next == ',';
  }

  std::string_view value_at(const char* position) {
    cursor_.move_to(position);
    return cursor_.value_text();
  }

  void release_behind() {
    if (cursor_.position() < next_release_) return;
    if (second_half_from_ == nullptr) {
      if (input_.before) input_.before(cursor_.position());
    } else if (input_.range) {
      input_.range(std::max(second_half_from_, next_release_ - kReleaseStep), cursor_.position());
    }
    next_release_ = cursor_.position() + kReleaseStep;
  }

  void read_version() {
    const std::string_view token = cursor_.value_text();
    if (token != "1") {
      throw LoadError("unsupported reference spec version " + std::string(token) +
                      " (supported: 0, written without a version, and 1)");
    }
  }

  void read_version0(std::string_view first_key) {
    read_entries(first_key, true);
    end_of_document();
  }

  // The entries of an object (a version-0 set, "refs"), from the member whose key was just read
  // up to and past the object's closing brace. When much is left, a second thread reads the
  // entries from a point near the middle into a builder of its own while this one reads those
  // before it; where this one arrives exactly at that point between two members, the second
  // half is appended to the store as one thread would have built it, else it is dropped.
  // After the first, entries are read through the read window (refstore/read_window.h).
  void read_entries(std::string_view first_key, bool version0) {
    std::optional<SecondHalf> second;
    const auto left = static_cast<std::size_t>(json_.data() + json_.size() - cursor_.position());
    if (second_half_from_ == nullptr && left >= options_.two_threads_from_bytes) {
      if (const char* split = find_split()) {
        try {
          const auto left_bytes = static_cast<std::size_t>(json_.data() + json_.size() - split);
          // A parser of its own on the second thread, reading from the split, with this one's
          // templates (read before the entries, so never changed while it runs).
          second.emplace(
              split, std::make_unique<StoreBuilder>(left_bytes / 8, left_bytes, options_.max_keys),
              [this, split, version0, templates = templates_](StoreBuilder& builder, const std::atomic<bool>& stop) {
                Parser parser(json_, builder, options_, input_);
                parser.templates_ = templates;
                parser.second_half_from_ = split;
                parser.second_half_stop_ = &stop;
                parser.next_release_ = split + kReleaseStep;
                parser.cursor_.move_to(split);
                parser.read_entries(parser.read_key(), version0);
                return parser.second_half_end_;
              });
        } catch (const std::system_error&) {  // no thread to be had: one reads it all
        }
      }
    }
    add_member(first_key, version0);
    release_behind();
    if (options_.read_window_bytes > 0) enter_window();
    while (true) {
      if (second_half_stop_ != nullptr && second_half_stop_->load(std::memory_order_relaxed)) return leave_window();
      if (in_window_ && window_->end() - cursor_.position() < window_margin_ && !window_->reaches_document_end()) {
        enter_window();  // moved on to start here
      }
      const std::uint64_t start = offset_of(cursor_.position());
      Step step = Step::Added;
      try {
        step = next_entry(version0, second);
      } catch (const LoadError&) {
        if (!in_window_) throw;
        // Cut by the window's end, or bad: read where the whole document is, which tells.
        leave_window();
        cursor_.move_to(json_.data() + start);
        step = next_entry(version0, second);
        if (step == Step::Added) enter_window();
      }
      if (step == Step::Closed) break;
      if (step == Step::AtSplit) {
        leave_window();
        return append_second_half(*second);
      }
      if (!in_window_) release_behind();
    }
    leave_window();
    if (second_half_from_ != nullptr) second_half_end_ = cursor_.position();
  }

  enum class Step { Added, Closed, AtSplit };

  // After a member: the next one added, or the object's end, or the second half's start reached
  // (the caller appends it: its errors are not this member's).
  Step next_entry(bool version0, std::optional<SecondHalf>& second) {
    if (!next_member()) return Step::Closed;
    if (second && cursor_.next() == '"') {
      const std::uint64_t at = offset_of(cursor_.position());
      const auto split = static_cast<std::uint64_t>(second->split() - json_.data());
      if (at == split) return Step::AtSplit;
      if (at > split) second.reset();  // the split was no member's start
    }
    add_member(read_key(), version0);
    return Step::Added;
  }

  void add_member(std::string_view key, bool version0) {
    if (version0 && key == "version") throw NeedsFieldOrder{};
    if (!add_plain_reference(key)) add_entry(key);
  }

  std::uint64_t offset_of(const char* position) const {
    return in_window_ ? window_->offset_of(position) : static_cast<std::uint64_t>(position - json_.data());
  }

  // Moves the cursor into the read window, which starts where the cursor is.
  void enter_window() {
    const std::uint64_t at = offset_of(cursor_.position());
    if (!window_) {
      const std::size_t capacity = std::min<std::uint64_t>(options_.read_window_bytes, json_.size() - at);
      ReadWindow::Read read = input_.read;
      if (!read) {
        read = [document = json_.data()](std::uint64_t offset, char* into, std::size_t size) {
          std::memcpy(into, document + offset, size);
        };
      }
      window_.emplace(capacity, json_.size(), std::move(read));
      // Moved on when less than this is left: a member longer than that may be cut, and is
      // read again where the whole document is.
      window_margin_ = static_cast<std::ptrdiff_t>(window_->capacity() / 4);
    }
    window_->move_to(at);
    // A number the window's end stops is the only value its end can cut and leave valid: the
    // cursor refuses it, and the member is read again where the whole document is.
    cursor_ = JsonCursor(window_->begin(), window_->end(), !window_->reaches_document_end());
    in_window_ = true;
  }

  // Moves the cursor back to where it is in the whole document.
  void leave_window() {
    if (!in_window_) return;
    const std::uint64_t at = window_->offset_of(cursor_.position());
    cursor_ = JsonCursor(json_.data(), json_.data() + json_.size());
    cursor_.move_to(json_.data() + at);
    in_window_ = false;
  }

  // Where a second thread may start: a member's start, guessed near the middle of what is left.
  const char* find_split() const {
    return find_member_start(json_.data(), cursor_.position(), json_.data() + json_.size(), kSplitSearch);
  }

  // Appends what the second thread read to the store, and goes on after it. Its nodes go in
  // first, so that where it failed, an earlier entry's error (too many keys) comes first.
  void append_second_half(SecondHalf& second) {
    second.join();
    builder_.append(std::move(second.builder()));
    if (second.error()) std::rethrow_exception(second.error());
    cursor_.move_to(second.end());
  }

  void read_version1_in_order() {
    bool templates_seen = false, refs_seen = false;
    std::optional<std::string_view> gen;  // read last: it applies after refs and may use any template
    const auto once = [](bool seen, std::string_view name) {
      if (seen) throw LoadError("the top-level field \"" + std::string(name) + "\" is given twice");
    };
    while (next_member()) {
      const std::string_view name = read_key();
      if (name == "templates") {
        if (refs_seen) throw NeedsFieldOrder{};  // the references read already did not use them
        once(templates_seen, name);
        templates_seen = true;
        read_templates(cursor_.value_text());
      } else if (name == "refs") {
        once(refs_seen, name);
        refs_seen = true;
        read_refs();
      } else if (name == "gen") {
        once(gen.has_value(), name);
        gen = cursor_.value_text();
      } else if (name == "version") {
        throw LoadError("the top-level field \"version\" is given twice");
      } else {
        validate(name, cursor_.value_text());
      }
    }
    end_of_document();
    if (gen) read_gen(*gen);
  }

  // A top-level field's value, which must be JSON even when ignored (fsspec ignores fields a
  // version-1 set carries besides its own).
  void validate(std::string_view name, std::string_view text) {
    simdjson::dom::element ignored;
    if (const auto error = validator_.parse(text.data(), text.size()).get(ignored); error != simdjson::SUCCESS) {
      throw LoadError("top-level field " + quote(name) + ": invalid JSON (" + simdjson::error_message(error) + ")" +
                      cursor_.location(text.data()));
    }
  }

  void read_refs() {
    if (cursor_.next() != '{') cursor_.fail("\"refs\" must be an object");
    cursor_.skip_byte();
    if (cursor_.next() == '}') {
      cursor_.skip_byte();
      return;
    }
    read_entries(read_key(), false);
  }

  // A value of the document (templates, gen) read with simdjson On-Demand where it lies: the
  // rest of the document stands in for the padding, whose content simdjson ignores. On-Demand
  // skips what it is not asked for without checking it, so the whole value is validated first.
  void iterate(std::string_view name, std::string_view text) {
    validate(name, text);
    const std::size_t room =
        static_cast<std::size_t>(json_.data() + json_.size() - text.data()) - text.size() + simdjson::SIMDJSON_PADDING;
    iterating_ = false;  // the previous document's positions die with the new iteration
    check(parser_.iterate(simdjson::padded_string_view(text.data(), text.size(), text.size() + room)).get(doc_), "");
    iterating_ = true;
  }

  void read_templates(std::string_view text) {
    iterate("templates", text);
    od::object object;
    check(doc_.get_object().get(object), "\"templates\" must be an object");
    for (auto field : object) {
      std::string_view name;
      check(field.unescaped_key().get(name), "\"templates\"");
      std::string_view value;
      if (field.value().get_string().get(value) != simdjson::SUCCESS) {
        throw LoadError("template " + quote(name) + ": the value must be a string" + location());
      }
      try {
        templates_.insert_or_assign(std::string(name), Template::compile(value));
      } catch (const ExpressionError& error) {
        throw LoadError("template " + quote(name) + ": " + error.what());
      }
    }
  }

  void read_gen(std::string_view text) {
    iterate("gen", text);
    od::array array;
    check(doc_.get_array().get(array), "\"gen\" must be an array");
    const GenerateContext generation{builder_, templates_, max_keys_, [this] { return location(); }};
    std::size_t index = 0;
    for (auto element : array) {
      od::object object;
      check(element.get_object().get(object), "gen[" + std::to_string(index) + "] must be an object");
      expand_generator(object, "gen[" + std::to_string(index) + "]", generation);
      ++index;
    }
  }

  // simdjson failures become one line naming what was being read and where in the file.
  void check(simdjson::error_code error, std::string_view context) {
    if (error != simdjson::SUCCESS) fail(error, std::string(context));
  }
  [[noreturn]] void fail(simdjson::error_code error, const std::string& context) {
    throw LoadError((context.empty() ? "" : context + ": ") + "invalid JSON (" + simdjson::error_message(error) + ")" +
                    location());
  }

  std::string location() {
    // A document whose iteration never started has no position to ask for.
    const char* at = nullptr;
    if (!iterating_ || doc_.current_location().get(at) != simdjson::SUCCESS) return "";
    return cursor_.location(at);
  }

  // Most entries of a large set: ["the previous entry's URL", offset, length], as writers print
  // it, read here without the general path's dispatch. Anything else is left to add_entry.
  bool add_plain_reference(std::string_view key) {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    if (!previous_url_id_ || !cursor_.plain_reference(previous_url_, kMaxField - 1, offset, length)) return false;
    if (!builder_.add_next_chunk(key, *previous_url_id_, offset, length)) {
      builder_.add_file(key);
      builder_.set_range(*previous_url_id_, offset, length);
    }
    return true;
  }

  // One member of a version-0 set or of "refs". Syntax errors name the key.
  void add_entry(std::string_view key) {
    try {
      switch (cursor_.next()) {
        case '"': {
          const std::string_view text = cursor_.string(value_scratch_);
          if (text.starts_with(kBase64Prefix)) {
            // Decoded before the file is added: an error leaves the store's nodes as they were.
            std::string& arena = builder_.inline_arena();
            const std::size_t start = arena.size();
            if (!base64_decode_append(text.substr(kBase64Prefix.size()), arena)) {
              throw LoadError("key " + quote(key) + ": invalid base64 data");
            }
            builder_.add_file(key);
            builder_.set_inline_from(start);
          } else {
            builder_.add_file(key);
            builder_.set_inline(text);
          }
          return;
        }
        case '[':
          if (looks_like_reference()) return add_reference(key);
          return add_json_text(key);
        case '{':
          return add_json_text(key);
        default: {
          // Numbers, booleans and null are JSON texts too.
          const std::string_view text = cursor_.value_text();
          builder_.add_file(key);
          builder_.set_inline(text);
        }
      }
    } catch (const JsonSyntaxError& error) {
      throw LoadError("key " + quote(key) + ": " + error.what());
    }
  }

  // An object or array becomes a file that a zarr reader will parse, so it is validated here.
  // Such values are metadata: few.
  void add_json_text(std::string_view key) {
    const std::string_view text = cursor_.value_text();
    simdjson::dom::element ignored;
    if (const auto error = validator_.parse(text.data(), text.size()).get(ignored); error != simdjson::SUCCESS) {
      throw LoadError("key " + quote(key) + ": invalid JSON in the value (" + simdjson::error_message(error) + ")" +
                      cursor_.location(text.data()));
    }
    builder_.add_file(key);
    builder_.set_inline(text);
  }

  // An array is a reference when its first element is a URL: a string, or null for the default.
  bool looks_like_reference() const {
    JsonCursor inside = cursor_;
    inside.skip_byte();  // '['
    const char first = inside.next();
    return first == '"' || first == 'n';
  }

  void add_reference(std::string_view key) {
    cursor_.skip_byte();  // '['
    std::string_view url;
    bool null_url = false;
    std::optional<std::uint32_t> known_url;
    if (cursor_.next() == '"') {
      // Neighbouring references usually name the same file: one comparison recognises it, and
      // its URL id is the one the previous reference got.
      if (previous_url_id_ && cursor_.string_equals(previous_url_)) {
        known_url = previous_url_id_;
      } else {
        url = cursor_.string(url_scratch_);
      }
    } else if (cursor_.null_literal()) {
      null_url = true;
    } else {
      throw LoadError("key " + quote(key) + ": the reference URL must be a string or null" +
                      cursor_.location(cursor_.position()));
    }
    std::size_t count = 1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    if (cursor_.next() == ',') {
      cursor_.skip_byte();
      offset = read_size(key, "offset");
      count = 2;
      if (cursor_.next() == ',') {
        cursor_.skip_byte();
        length = read_size(key, "length");
        count = 3;
      }
    }
    if (cursor_.next() == ',') {
      cursor_.skip_byte();
      (void)cursor_.value_text();  // a trailing comma is a syntax error, not one element more
      throw LoadError("key " + quote(key) + ": a reference is [url] or [url, offset, length], not " +
                      std::to_string(count + 1) + "+ elements");
    }
    cursor_.expect(']', "',' or ']' in a reference");
    if (count == 2) {
      throw LoadError("key " + quote(key) + ": a reference is [url] or [url, offset, length], not 2 elements");
    }
    // The URL before the file: an error in it (a template) leaves the store as it was.
    std::uint32_t url_id = 0;
    if (null_url) {
      url_id = builder_.null_url(key);
    } else if (known_url) {
      url_id = *known_url;
    } else {
      url_id = intern_rendered(url, key);
      if (url.data() != url_scratch_.data()) {  // taken in place: no escapes
        previous_url_.assign(url);
        previous_url_id_ = url_id;
      }
    }
    builder_.add_file(key);
    if (count == 1) {
      builder_.set_whole_file(url_id);
    } else {
      builder_.set_range(url_id, offset, length);
    }
  }

  std::uint64_t read_size(std::string_view key, const char* what) {
    std::uint64_t number = 0;
    if (cursor_.unsigned_integer(kMaxField - 1, number)) return number;
    bad_size(key, what);
  }

  // Out of line: read_size, on every reference, stays small.
  [[noreturn, gnu::cold, gnu::noinline]] void bad_size(std::string_view key, const char* what) {
    const char* at = cursor_.position();
    const std::string_view token = cursor_.value_text();
    const bool all_digits = !token.empty() && token.find_first_not_of("0123456789") == std::string_view::npos;
    const char* problem = all_digits ? "is too large (the limit is 2^48 - 2)" : "must be a non-negative integer";
    throw LoadError("key " + quote(key) + ": " + what + " " + std::string(token) + " " + problem +
                    cursor_.location(at));
  }

  std::uint32_t intern_rendered(std::string_view url, std::string_view key) {
    if (templates_.empty() || url.find("{{") == std::string_view::npos) return builder_.intern_url(url);
    try {
      return builder_.intern_url(Template::compile(url).render(TemplateScope(templates_, no_variables_)));
    } catch (const ExpressionError& error) {
      throw LoadError("key " + quote(key) + ": URL " + quote(url) + ": " + error.what());
    }
  }

  // How often the input behind the parse is given back.
  static constexpr std::ptrdiff_t kReleaseStep = 8 << 20;

  simdjson::padded_string_view json_;
  JsonCursor cursor_;
  StoreBuilder& builder_;

  const LoadOptions& options_;
  const InputAccess& input_;
  const char* next_release_ = nullptr;
  const char* second_half_from_ = nullptr;               // set in the second thread's parser
  const std::atomic<bool>* second_half_stop_ = nullptr;  // set when the first thread gives up on it
  const char* second_half_end_ = nullptr;                // past the object's closing brace
  od::parser parser_;
  od::document doc_;
  simdjson::dom::parser validator_;
  bool iterating_ = false;
  std::uint64_t max_keys_;
  TemplateTable templates_;
  const Variables no_variables_;
  std::string key_scratch_, value_scratch_, url_scratch_;  // strings with escapes, unescaped
  std::string previous_url_;                               // the last URL read without escapes, as written
  std::optional<std::uint32_t> previous_url_id_;           // its id (none: previous_url_ is not set)
  std::optional<ReadWindow> window_;                       // read_entries reads through it
  std::ptrdiff_t window_margin_ = 0;
  bool in_window_ = false;  // cursor_ is in window_, not in json_
};

RefStore parse_padded(simdjson::padded_string_view json, const LoadOptions& options, const InputAccess& input) {
  // Every key costs at least six bytes of JSON ("k":"",), so this bounds a version-0 set's
  // nodes; generated sets grow past it as needed.
  const std::size_t expected_nodes = json.size() / 8;
  {
    StoreBuilder builder(expected_nodes, json.size(), options.max_keys);
    try {
      Parser(json, builder, options, input).run_in_order();
      return builder.finish(options);
    } catch (const NeedsFieldOrder&) {
    }
  }
  StoreBuilder builder(expected_nodes, json.size(), options.max_keys);
  Parser(json, builder, options, input).run_by_position();
  return builder.finish(options);
}

}  // namespace

common::Result<RefStore> RefStore::parse(std::string_view json, const LoadOptions& options) {
  try {
    const simdjson::padded_string padded(json);
    return parse_padded(padded, options, InputAccess{});
  } catch (const LoadError& error) {
    return common::Error{error.what(), EINVAL};
  }
}

common::Result<RefStore> RefStore::load_file(const std::string& path, const LoadOptions& options) {
  try {
    MappedInput input(path);  // its errors name the file already
    try {
      return parse_padded(input.view(), options,
                          InputAccess{[&input](const char* read_up_to) { input.release_before(read_up_to); },
                                      [&input](const char* from, const char* to) { input.release_range(from, to); },
                                      [&input](std::uint64_t offset, char* into, std::size_t size) {
                                        input.read(offset, into, size);
                                      }});
    } catch (const LoadError& error) {
      return common::Error{path + ": " + error.what(), EINVAL};
    }
  } catch (const LoadError& error) {
    return common::Error{error.what(), EINVAL};
  }
}

}  // namespace kerchunkfs::refstore
