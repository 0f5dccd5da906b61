#include "sources/dmrpp/xml_tree.h"

#include <expat.h>

namespace kerchunkfs::sources {
namespace {

// Bounds on what one document may build: far above any sidecar's (the largest describe a few
// hundred thousand chunks), well below what would exhaust memory.
constexpr std::uint64_t kMostElements = 5'000'000;
constexpr std::size_t kMostDepth = 256;

struct Builder {
  XML_Parser parser = nullptr;
  std::unique_ptr<XmlElement> root;
  std::vector<XmlElement*> open;  // the path from the root to the current element
  std::uint64_t elements = 0;
  std::string refusal;  // why parsing was stopped, when it was

  void stop(std::string why) {
    if (refusal.empty()) refusal = std::move(why);
    XML_StopParser(parser, XML_FALSE);
  }

  static void on_start(void* data, const XML_Char* name, const XML_Char** attributes) {
    auto& self = *static_cast<Builder*>(data);
    if (!self.refusal.empty()) return;
    if (++self.elements > kMostElements || self.open.size() >= kMostDepth) {
      return self.stop("more elements or deeper nesting than a sidecar has");
    }
    auto element = std::make_unique<XmlElement>();
    element->name = name;
    element->line = XML_GetCurrentLineNumber(self.parser);
    for (const XML_Char** pair = attributes; pair[0] != nullptr; pair += 2) {
      element->attributes.emplace_back(pair[0], pair[1]);
    }
    XmlElement* made = element.get();
    if (self.open.empty()) {
      self.root = std::move(element);
    } else {
      self.open.back()->children.push_back(std::move(element));
    }
    self.open.push_back(made);
  }

  static void on_end(void* data, const XML_Char*) {
    auto& self = *static_cast<Builder*>(data);
    if (!self.open.empty()) self.open.pop_back();
  }

  static void on_text(void* data, const XML_Char* text, int length) {
    auto& self = *static_cast<Builder*>(data);
    if (!self.open.empty() && self.refusal.empty())
      self.open.back()->text.append(text, static_cast<std::size_t>(length));
  }

  static void on_doctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    static_cast<Builder*>(data)->stop("a document type declaration (DTDs and entities are not read)");
  }
};

struct ParserDeleter {
  void operator()(XML_ParserStruct* parser) const { XML_ParserFree(parser); }
};

}  // namespace

std::string_view XmlElement::attribute(std::string_view key) const {
  for (const auto& [name, value] : attributes) {
    if (name == key) return value;
  }
  return {};
}

common::Result<std::unique_ptr<XmlElement>> parse_xml(std::string_view document, const std::string& location) {
  const std::unique_ptr<XML_ParserStruct, ParserDeleter> parser(XML_ParserCreate(nullptr));
  if (!parser) return common::Error{location + ": cannot start the XML parser"};
  Builder builder;
  builder.parser = parser.get();
  XML_SetUserData(parser.get(), &builder);
  XML_SetElementHandler(parser.get(), &Builder::on_start, &Builder::on_end);
  XML_SetCharacterDataHandler(parser.get(), &Builder::on_text);
  XML_SetStartDoctypeDeclHandler(parser.get(), &Builder::on_doctype);
  XML_SetParamEntityParsing(parser.get(), XML_PARAM_ENTITY_PARSING_NEVER);
  // Fed in pieces: expat takes an int length.
  constexpr std::size_t kPiece = 1 << 30;
  bool ok = true;
  for (std::size_t at = 0; ok && (at < document.size() || at == 0);) {
    const std::size_t length = std::min(kPiece, document.size() - at);
    const bool last = at + length >= document.size();
    ok = XML_Parse(parser.get(), document.data() + at, static_cast<int>(length), last ? XML_TRUE : XML_FALSE) ==
         XML_STATUS_OK;
    at += length;
    if (last) break;
  }
  const std::string line = std::to_string(XML_GetCurrentLineNumber(parser.get()));
  if (!builder.refusal.empty()) return common::Error{location + ": line " + line + ": " + builder.refusal, EINVAL};
  if (!ok) {
    return common::Error{location + ": line " + line + ": not XML: " + XML_ErrorString(XML_GetErrorCode(parser.get())),
                         EINVAL};
  }
  if (!builder.root) return common::Error{location + ": no XML element", EINVAL};
  return std::move(builder.root);
}

}  // namespace kerchunkfs::sources
