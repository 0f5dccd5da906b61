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
  SECTION("overlapping coordinates") {
    const std::string why = combine_error({day_file("a.nc", {0, 1}), day_file("b.nc", {1, 2})});
    CHECK_THAT(why, Catch::Contains("a.nc") && Catch::Contains("b.nc"));
  }
  SECTION("different units") {
    const std::string why =
        combine_error({day_file("a.nc", {0, 1}, "days since 2000-01-01", 1, R"(, "units": "K")"),
                       day_file("b.nc", {2, 3}, "days since 2000-01-01", 1, R"(, "units": "degC")")});
    CHECK_THAT(why, Catch::Contains("t: attribute units differs between a.nc and b.nc"));
  }
  SECTION("uneven chunks, and a file that lacks the variable") {
    CombineInput without = day_file("b.nc", {3, 4, 5});
    for (auto it = without.references.begin(); it != without.references.end();) {
      it = it->first.starts_with("t/") ? without.references.erase(it) : std::next(it);
    }
    const std::string why = combine_error({day_file("a.nc", {0, 1, 2}, "days since 2000-01-01", 2), without,
                                           day_file("c.nc", {6, 7, 8}, "days since 2000-01-01", 2)});
    CHECK_THAT(why, Catch::Contains("t: missing from b.nc"));
  }
  SECTION("no input at all") { CHECK(combine_error({}) == "nothing to combine"); }
}

TEST_CASE("files whose chunks do not line up, or whose packing differs, are joined as an assembled array") {
  SECTION("chunks that do not line up along the dimension") {
    const ReferenceMap out = join({day_file("a.nc", {0, 1, 2}, "days since 2000-01-01", 2),
                                   day_file("b.nc", {3, 4, 5}, "days since 2000-01-01", 2)});
    const std::string meta = std::get<std::string>(out.at("t/.zarray"));
    CHECK_THAT(meta, Catch::Contains(R"("id": "kerchunkfs.assembled")") && Catch::Contains(R"("shape": [6, 2])") &&
                         Catch::Contains(R"("chunks": [2, 2])") && Catch::Contains(R"("unpack": false)"));
    CHECK_THAT(meta, Catch::Contains(R"({"key": ".kerchunkfs/1", "length": 3, "offset": 3})"));
    // Each file's own array, chunk references unchanged, under the assembled one.
    CHECK(std::get<RangeReference>(out.at("t/.kerchunkfs/1/1.0")).url == "b.nc");
    CHECK(std::get<RangeReference>(out.at("t/.kerchunkfs/1/1.0")).offset == 1016);
    CHECK_THAT(std::get<std::string>(out.at("t/.kerchunkfs/0/.zarray")), Catch::Contains(R"("shape": [3, 2])"));
    CHECK(out.count("t/0.0") == 0);
  }
  SECTION("a different chunk shape") {
    const ReferenceMap out = join(
        {day_file("a.nc", {0, 1}, "days since 2000-01-01", 1), day_file("b.nc", {2, 3}, "days since 2000-01-01", 2)});
    CHECK_THAT(std::get<std::string>(out.at("t/.zarray")),
               Catch::Contains("kerchunkfs.assembled") && Catch::Contains(R"("chunks": [1, 2])"));
  }
  SECTION("different packing: unpacked, in the float dtype xarray gives, its packing attributes gone") {
    const ReferenceMap out = join({day_file("a.nc", {0, 1}, "days since 2000-01-01", 1, R"(, "scale_factor": 0.5)"),
                                   day_file("b.nc", {2, 3}, "days since 2000-01-01", 1, R"(, "scale_factor": 0.25)")});
    const std::string meta = std::get<std::string>(out.at("t/.zarray"));
    CHECK_THAT(meta, Catch::Contains(R"("unpack": true)") && Catch::Contains(R"("dtype": "<f4")") &&
                         Catch::Contains(R"("fill_value": "NaN")"));
    CHECK_THAT(std::get<std::string>(out.at("t/.zattrs")), !Catch::Contains("scale_factor"));
    CHECK_THAT(std::get<std::string>(out.at("t/.kerchunkfs/1/.zattrs")), Catch::Contains("0.25"));
  }
}
