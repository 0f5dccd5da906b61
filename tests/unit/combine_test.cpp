// combine's decisions on small in-memory reference sets: inline coordinate values, and chunk
// references to files that are never read (only where they go is checked).
#include "scanner/combine.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "scanner/chunk_values.h"

using namespace kerchunkfs;
using refstore::RangeReference;
using refstore::ReferenceMap;
using scanner::CombineError;
using scanner::CombineInput;
using scanner::ConcatDimension;

namespace {

std::string doubles(const std::vector<double>& values) {
  std::string bytes(values.size() * 8, '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

std::vector<double> as_doubles(const std::string& bytes) {
  std::vector<double> values(bytes.size() / 8);
  std::memcpy(values.data(), bytes.data(), values.size() * 8);
  return values;
}

// A file of `times.size()` time steps of a 2-wide variable t(time, x), one chunk per `chunk` steps.
CombineInput day_file(const std::string& name, const std::vector<double>& times,
                      const std::string& units = "days since 2000-01-01", std::uint64_t chunk = 1,
                      const std::string& t_attributes = "") {
  ReferenceMap refs;
  refs[".zgroup"] = std::string(R"({"zarr_format": 2})");
  refs["time/.zarray"] = R"({"chunks": [)" + std::to_string(times.size()) +
                         R"(], "compressor": null, "dtype": "<f8", )" +
                         R"("fill_value": null, "filters": null, "order": "C", "shape": [)" +
                         std::to_string(times.size()) + R"(], "zarr_format": 2})";
  refs["time/.zattrs"] = R"({"_ARRAY_DIMENSIONS": ["time"], "calendar": "standard", "units": ")" + units + "\"}";
  refs["time/0"] = doubles(times);
  refs["t/.zarray"] = R"({"chunks": [)" + std::to_string(chunk) + R"(, 2], "compressor": null, "dtype": "<f4", )" +
                      R"("fill_value": null, "filters": null, "order": "C", "shape": [)" +
                      std::to_string(times.size()) + R"(, 2], "zarr_format": 2})";
  refs["t/.zattrs"] = R"({"_ARRAY_DIMENSIONS": ["time", "x"])" + t_attributes + "}";
  for (std::uint64_t c = 0; c * chunk < times.size(); ++c) {
    refs["t/" + std::to_string(c) + ".0"] = RangeReference{name, 1000 + c * 8 * chunk, 8 * chunk};
  }
  return {name, std::move(refs)};
}

ReferenceMap join(std::vector<CombineInput> inputs) {
  scanner::ReferenceReader reader;
  return scanner::combine(std::move(inputs), {ConcatDimension{"time", {}}}, reader);
}

std::string combine_error(std::vector<CombineInput> inputs) {
  try {
    join(std::move(inputs));
  } catch (const CombineError& error) {
    return error.what();
  }
  return "<joined>";
}

}  // namespace

TEST_CASE("files are joined in the order of their coordinate values, whatever order they come in") {
  const ReferenceMap out = join({day_file("b.nc", {2, 3}), day_file("a.nc", {0, 1})});
  CHECK_THAT(std::get<std::string>(out.at("t/.zarray")), Catch::Contains(R"("shape": [4, 2])"));
  CHECK(std::get<RangeReference>(out.at("t/0.0")).url == "a.nc");
  CHECK(std::get<RangeReference>(out.at("t/2.0")).url == "b.nc");
  CHECK(std::get<RangeReference>(out.at("t/3.0")).offset == 1008);
  CHECK(as_doubles(std::get<std::string>(out.at("time/0"))) == std::vector<double>{0, 1, 2, 3});
}

TEST_CASE("times in other units are re-encoded in the first file's units") {
  const ReferenceMap out = join({day_file("a.nc", {0, 1}), day_file("b.nc", {48, 72}, "hours since 2000-01-01")});
  CHECK(as_doubles(std::get<std::string>(out.at("time/0"))) == std::vector<double>{0, 1, 2, 3});
  CHECK_THAT(std::get<std::string>(out.at("time/.zattrs")), Catch::Contains("days since 2000-01-01"));
}

TEST_CASE("joins that could read back other values than the files hold are refused, naming the files") {
  SECTION("chunks that do not line up along the dimension") {
    const std::string why = combine_error({day_file("a.nc", {0, 1, 2}, "days since 2000-01-01", 2),
                                           day_file("b.nc", {3, 4, 5}, "days since 2000-01-01", 2)});
    CHECK_THAT(why, Catch::Contains("a.nc") && Catch::Contains("would not sit on the chunk grid"));
  }
  SECTION("a different chunk shape") {
    const std::string why = combine_error(
        {day_file("a.nc", {0, 1}, "days since 2000-01-01", 1), day_file("b.nc", {2, 3}, "days since 2000-01-01", 2)});
    CHECK_THAT(why, Catch::Contains("chunk shape differs") && Catch::Contains("b.nc"));
  }
  SECTION("overlapping coordinates") {
    const std::string why = combine_error({day_file("a.nc", {0, 1}), day_file("b.nc", {1, 2})});
    CHECK_THAT(why, Catch::Contains("a.nc") && Catch::Contains("b.nc"));
  }
  SECTION("different packing") {
    const std::string why =
        combine_error({day_file("a.nc", {0, 1}, "days since 2000-01-01", 1, R"(, "scale_factor": 0.5)"),
                       day_file("b.nc", {2, 3}, "days since 2000-01-01", 1, R"(, "scale_factor": 0.25)")});
    CHECK_THAT(why, Catch::Contains("scale_factor differs"));
  }
  SECTION("no input at all") { CHECK(combine_error({}) == "nothing to combine"); }
}
