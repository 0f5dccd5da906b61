#include "parquet/thrift.h"

namespace kerchunkfs::parquet {

using common::Error;
using common::Result;

Error ThriftReader::error(const std::string& what) const {
  return Error{"thrift at byte " + std::to_string(at_) + ": " + what};
}

Result<std::uint8_t> ThriftReader::byte() {
  if (at_ >= bytes_.size()) return error("ends early");
  return static_cast<std::uint8_t>(bytes_[at_++]);
}

Result<std::uint64_t> ThriftReader::varint() {
  std::uint64_t value = 0;
  for (unsigned shift = 0; shift < 70; shift += 7) {
    auto next = byte();
    if (!next) return next.error();
    value |= std::uint64_t{*next & 0x7Fu} << shift;
    if ((*next & 0x80u) == 0) return value;
  }
  return error("a varint longer than 10 bytes");
}

Result<std::int64_t> ThriftReader::integer() {
  auto raw = varint();
  if (!raw) return raw.error();
  return static_cast<std::int64_t>((*raw >> 1) ^ (~(*raw & 1) + 1));  // zigzag
}

Result<std::string_view> ThriftReader::binary() {
  auto size = varint();
  if (!size) return size.error();
  if (*size > bytes_.size() - at_) return error("a string of " + std::to_string(*size) + " bytes runs past the end");
  const std::string_view out = bytes_.substr(at_, *size);
  at_ += *size;
  return out;
}

Result<ThriftReader::Field> ThriftReader::field() {
  auto header = byte();
  if (!header) return header.error();
  Field f;
  f.type = static_cast<WireType>(*header & 0x0F);
  if (f.type == WireType::Stop) return f;
  if ((*header & 0x0F) > 12) return error("unknown field type " + std::to_string(*header & 0x0F));
  std::int16_t& last = last_ids_[(depth_ == 0 ? 0 : depth_ - 1) % kMaxDepth];
  if ((*header >> 4) != 0) {
    f.id = static_cast<std::int16_t>(last + (*header >> 4));
  } else {
    auto id = integer();
    if (!id) return id.error();
    f.id = static_cast<std::int16_t>(*id);
  }
  last = f.id;
  return f;
}

Result<ThriftReader::ListHeader> ThriftReader::list() {
  auto header = byte();
  if (!header) return header.error();
  ListHeader h;
  h.element = static_cast<WireType>(*header & 0x0F);
  h.size = *header >> 4;
  if (h.size == 15) {
    auto size = varint();
    if (!size) return size.error();
    h.size = *size;
  }
  // Every element takes at least a byte: a count beyond the bytes left is a lie.
  if (h.size > bytes_.size() - at_) return error("a list of " + std::to_string(h.size) + " elements runs past the end");
  return h;
}

Result<bool> ThriftReader::list_boolean() {
  auto value = byte();
  if (!value) return value.error();
  return *value == 1;
}

common::Status ThriftReader::skip_element(WireType type) {
  // In lists, sets and maps a boolean is a byte of its own, not folded into a field header.
  if (type == WireType::True || type == WireType::False) {
    auto b = byte();
    if (!b) return b.error();
    return common::Ok{};
  }
  return skip(type);
}

common::Status ThriftReader::skip(WireType type) {
  switch (type) {
    case WireType::True:
    case WireType::False:
      return common::Ok{};
    case WireType::Byte: {
      auto b = byte();
      if (!b) return b.error();
      return common::Ok{};
    }
    case WireType::I16:
    case WireType::I32:
    case WireType::I64: {
      auto v = varint();
      if (!v) return v.error();
      return common::Ok{};
    }
    case WireType::Double:
      if (bytes_.size() - at_ < 8) return error("ends early");
      at_ += 8;
      return common::Ok{};
    case WireType::Binary: {
      auto b = binary();
      if (!b) return b.error();
      return common::Ok{};
    }
    case WireType::List:
    case WireType::Set: {
      auto header = list();
      if (!header) return header.error();
      for (std::uint64_t i = 0; i < header->size; ++i) {
        if (auto skipped = skip_element(header->element); !skipped) return skipped;
      }
      return common::Ok{};
    }
    case WireType::Map: {
      auto size = varint();
      if (!size) return size.error();
      if (*size == 0) return common::Ok{};
      if (*size > bytes_.size() - at_) return error("a map runs past the end");
      auto types = byte();
      if (!types) return types.error();
      for (std::uint64_t i = 0; i < *size; ++i) {
        if (auto k = skip_element(static_cast<WireType>(*types >> 4)); !k) return k;
        if (auto v = skip_element(static_cast<WireType>(*types & 0x0F)); !v) return v;
      }
      return common::Ok{};
    }
    case WireType::Struct: {
      if (depth_ >= kMaxDepth) return error("structs nested too deeply");
      begin_struct();
      for (;;) {
        auto f = field();
        if (!f) return f.error();
        if (f->type == WireType::Stop) break;
        if (auto skipped = skip(f->type); !skipped) return skipped;
      }
      end_struct();
      return common::Ok{};
    }
    case WireType::Stop:
      break;
  }
  return error("cannot skip a field of type " + std::to_string(static_cast<int>(type)));
}

}  // namespace kerchunkfs::parquet
