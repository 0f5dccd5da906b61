#include <simdjson.h>

#include "codec/codec.h"
#include "codec/stage.h"

namespace kerchunkfs::codec {
namespace {

using common::Error;
using common::Result;

// A codec's id and its stage.
Result<std::unique_ptr<Stage>> stage_of(simdjson::dom::element codec) {
  simdjson::dom::object config;
  std::string_view id;
  if (codec.get(config) || config["id"].get(id)) return Error{"a codec is not an object with an \"id\""};
  return make_stage(id, config);
}

// A big-endian dtype whose elements are one number each: integers, floats, times.
bool swappable(std::string_view dtype_json, std::size_t element) {
  return element > 1 && dtype_json.size() >= 4 && dtype_json.substr(0, 2) == "\">" &&
         std::string_view("iufMm").find(dtype_json[2]) != std::string_view::npos;
}

}  // namespace

Result<Pipeline> Pipeline::of(const common::ArrayMeta& meta, bool little_endian) {
  auto element = dtype_size(meta.dtype);
  if (!element) return element.error();
  Pipeline pipeline;
  pipeline.dtype_ = meta.dtype;
  pipeline.decoded_size_ = *element;
  for (const std::uint64_t extent : meta.chunks) {
    if (extent != 0 && pipeline.decoded_size_ > (std::size_t{1} << 40) / extent)
      return Error{"chunks larger than 1 TiB"};
    pipeline.decoded_size_ *= extent;
  }
  // Encoding runs the filters in order, then the compressor; decoding the other way round.
  std::vector<std::shared_ptr<const Stage>> encoding;
  simdjson::dom::parser parser;
  simdjson::dom::element filters;
  if (parser.parse(simdjson::padded_string(meta.filters)).get(filters)) return Error{"filters are not JSON"};
  if (!filters.is_null()) {
    simdjson::dom::array list;
    if (filters.get(list)) return Error{"filters are not a list"};
    for (const auto codec : list) {
      auto stage = stage_of(codec);
      if (!stage) return stage.error();
      encoding.push_back(std::move(*stage));
    }
  }
  simdjson::dom::parser compressor_parser;
  simdjson::dom::element compressor;
  if (compressor_parser.parse(simdjson::padded_string(meta.compressor)).get(compressor)) {
    return Error{"compressor is not JSON"};
  }
  if (!compressor.is_null()) {
    auto stage = stage_of(compressor);
    if (!stage) return stage.error();
    encoding.push_back(std::move(*stage));
  }
  // Each stage's output size is the input size of the one decoded after it.
  std::vector<Step> reversed;
  std::size_t size = pipeline.decoded_size_;
  for (const auto& stage : encoding) {
    reversed.push_back(Step{stage, size});
    size = stage->encoded_size(size);
  }
  pipeline.steps_.assign(reversed.rbegin(), reversed.rend());
  if (little_endian && swappable(meta.dtype, *element)) {
    pipeline.steps_.push_back(Step{byte_swap_stage(*element), pipeline.decoded_size_});
    pipeline.dtype_[1] = '<';
  }
  return pipeline;
}

Result<std::string> Pipeline::decode(std::string_view stored) const {
  std::string result;
  if (steps_.empty()) {
    if (stored.size() != decoded_size_) {
      return Error{"stored chunk has " + std::to_string(stored.size()) + " bytes where the chunk has " +
                   std::to_string(decoded_size_)};
    }
    result.assign(stored);
    return result;
  }
  // Stages before the last write into this thread's scratch buffers, which keep their memory from
  // chunk to chunk: no allocation, zeroing or page faults for them.
  thread_local std::string scratch[2];
  std::string_view input = stored;
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    std::string& output = i + 1 == steps_.size() ? result : scratch[i % 2];
    const Step& step = steps_[i];
    const auto status = step.stage->decode(input, step.output_size, output);
    if (!status) return common::wrap(status.error(), std::string(step.stage->id()));
    if (output.size() != step.output_size) return Error{std::string(step.stage->id()) + ": wrong size"};
    input = output;
  }
  return result;
}

std::string Pipeline::describe() const {
  std::string text;
  for (const Step& step : steps_) text += (text.empty() ? "" : ", ") + std::string(step.stage->id());
  return text;
}

}  // namespace kerchunkfs::codec
