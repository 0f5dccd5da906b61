// Thrift's compact protocol, as Parquet writes its footer and page headers: a reader that walks
// structs field by field (skipping what the caller does not ask for) and bounds every length by
// the bytes left. Private to parquet/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kerchunkfs::parquet {

enum class WireType : std::uint8_t {
  Stop = 0,
  True = 1,
  False = 2,
  Byte = 3,
  I16 = 4,
  I32 = 5,
  I64 = 6,
  Double = 7,
  Binary = 8,
  List = 9,
  Set = 10,
  Map = 11,
  Struct = 12,
};

class ThriftReader {
 public:
  explicit ThriftReader(std::string_view bytes) : bytes_(bytes) {}

  // The next field of the struct being read: its id and type; Stop at its end.
  struct Field {
    std::int16_t id = 0;
    WireType type = WireType::Stop;
  };
  [[nodiscard]] common::Result<Field> field();
  void begin_struct() { last_ids_[depth_++ % kMaxDepth] = 0; }
  void end_struct() { --depth_; }
  // A list or set header: its element type and count.
  struct ListHeader {
    WireType element = WireType::Stop;
    std::uint64_t size = 0;
  };
  [[nodiscard]] common::Result<ListHeader> list();

  [[nodiscard]] common::Result<std::int64_t> integer();  // i8, i16, i32, i64 (zigzag varints)
  [[nodiscard]] common::Result<std::string_view> binary();
  [[nodiscard]] common::Status skip(WireType type);
  [[nodiscard]] common::Status skip_element(WireType type);  // an element of a list, set or map
  // A boolean field's value is its type (True/False); inside a list each takes a byte.
  [[nodiscard]] common::Result<bool> list_boolean();

  std::size_t position() const { return at_; }

 private:
  static constexpr unsigned kMaxDepth = 64;
  [[nodiscard]] common::Result<std::uint64_t> varint();
  [[nodiscard]] common::Result<std::uint8_t> byte();
  common::Error error(const std::string& what) const;

  std::string_view bytes_;
  std::size_t at_ = 0;
  unsigned depth_ = 0;
  std::int16_t last_ids_[kMaxDepth] = {};
};

}  // namespace kerchunkfs::parquet
