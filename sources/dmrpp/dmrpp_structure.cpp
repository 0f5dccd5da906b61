#include "sources/dmrpp/dmrpp_structure.h"

#include <algorithm>
#include <utility>

#include "refstore/base64.h"
#include "refstore/writer.h"
#include "sources/json_text.h"

namespace kerchunkfs::sources {

std::uint64_t StructureMember::count() const {
  std::uint64_t values = 1;
  for (const std::uint64_t extent : shape) values *= extent;
  return values;
}

std::uint64_t StructureMember::size() const {
  return count() * (type != nullptr ? static_cast<std::uint64_t>(type->size) : string_length);
}

std::uint64_t packed_size(const std::vector<StructureMember>& members) {
  std::uint64_t bytes = 0;
  for (const StructureMember& member : members) bytes += member.size();
  return bytes;
}

std::string structure_dtype(const std::vector<StructureMember>& members, char endian) {
  std::string json = "[";
  for (const StructureMember& member : members) {
    std::string dtype = "|S" + std::to_string(member.string_length);
    if (member.type != nullptr) {
      dtype =
          std::string(1, member.type->size == 1 ? '|' : endian) + member.type->kind + std::to_string(member.type->size);
    }
    json += (json.size() > 1 ? ", [" : "[") + refstore::json_quote(member.name) + ", \"" + dtype + "\"";
    if (!member.shape.empty()) json += ", " + json_list(member.shape);
    json += "]";
  }
  return json + "]";
}

bool offsets_are_packed(const std::vector<StructureMember>& members, const std::vector<std::uint64_t>& ends) {
  if (ends.size() != members.size()) return false;
  std::uint64_t end = 0;
  for (std::size_t i = 0; i < members.size(); ++i) {
    end += members[i].size();
    if (ends[i] != end) return false;
  }
  return true;
}

common::Result<std::vector<std::string>> special_structure_values(std::string_view data, std::uint64_t records,
                                                                  std::vector<StructureMember>& members) {
  // Each value takes at least a byte of `data` (a string its ';'), so the loop ends early on a
  // count the data cannot hold; records of no values take none.
  std::uint64_t values_per_record = 0;
  for (const StructureMember& member : members) values_per_record += member.count();
  for (StructureMember& member : members) {
    if (member.type == nullptr) member.string_length = 1;  // zarr has no zero-length strings
  }
  if (values_per_record == 0) {
    if (!data.empty()) return common::Error{"specialstructuredata holds bytes for records of no values"};
    return std::vector<std::string>();
  }
  std::vector<std::string> values;
  std::size_t at = 0;
  for (std::uint64_t record = 0; record < records; ++record) {
    for (StructureMember& member : members) {
      for (std::uint64_t item = 0; item < member.count(); ++item) {
        if (member.type != nullptr) {
          const auto size = static_cast<std::size_t>(member.type->size);
          if (data.size() - at < size) {
            return common::Error{"specialstructuredata ends inside record " + std::to_string(record)};
          }
          values.emplace_back(data.substr(at, size));
          at += size;
          continue;
        }
        const std::size_t end = data.find(';', at);
        if (end == std::string_view::npos) {
          return common::Error{"specialstructuredata: the string " + member.name + " of record " +
                               std::to_string(record) + " has no ';' after it"};
        }
        std::string text;
        if (!refstore::base64_decode_append(data.substr(at, end - at), text)) {
          return common::Error{"specialstructuredata: the string " + member.name + " of record " +
                               std::to_string(record) + " is not base64"};
        }
        member.string_length = std::max<std::uint64_t>(member.string_length, text.size());
        values.push_back(std::move(text));
        at = end + 1;
      }
    }
  }
  if (at != data.size()) {
    return common::Error{"specialstructuredata holds " + std::to_string(data.size() - at) + " bytes more than " +
                         std::to_string(records) + " records"};
  }
  return values;
}

std::string packed_records(std::vector<std::string> values, const std::vector<StructureMember>& members,
                           std::uint64_t records) {
  std::string out;
  out.reserve(packed_size(members) * records);
  auto value = values.begin();
  for (std::uint64_t record = 0; record < records; ++record) {
    for (const StructureMember& member : members) {
      for (std::uint64_t item = 0; item < member.count(); ++item, ++value) {
        if (member.type == nullptr) value->resize(member.string_length, '\0');
        out += *value;
      }
    }
  }
  return out;
}

}  // namespace kerchunkfs::sources
