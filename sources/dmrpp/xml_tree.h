// XML documents (DMR++ sidecars) read into a small tree with expat. A sidecar comes from the
// internet: a document type declaration is refused outright, so no entity is defined and no
// external entity or DTD is loaded (nothing local is read, nothing fetched), and the tree's size
// and depth are bounded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace kerchunkfs::sources {

struct XmlElement {
  std::string name;  // with its namespace prefix as written ("dmrpp:chunk")
  // name, value, as written: an element has a handful, looked up by a short scan.
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<std::unique_ptr<XmlElement>> children;
  std::string text;        // the character data directly inside it
  std::uint64_t line = 0;  // where it starts, for messages

  // The attribute's value, or "" when absent.
  std::string_view attribute(std::string_view key) const;
};

// The document's root element; an error names `location`, the line and what is wrong.
[[nodiscard]] common::Result<std::unique_ptr<XmlElement>> parse_xml(std::string_view document,
                                                                    const std::string& location);

}  // namespace kerchunkfs::sources
