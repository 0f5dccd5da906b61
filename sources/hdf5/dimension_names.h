// Dimension names as netCDF-C gives them when it opens an HDF5 file: dimension scales by name,
// other dimensions "phony_dim_N". Then xarray on the mount shows the dimensions that xarray's
// netCDF4 engine shows on the original file.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace kerchunkfs::sources {

class DimensionNamer {
 public:
  using Group = std::size_t;
  static constexpr Group kRoot = 0;
  struct Extent {
    hsize_t length;
    bool unlimited;
  };
  using Done = std::function<void(const std::vector<std::string>& names)>;

  DimensionNamer();
  // Calls in the order netCDF-C reads the file: a group's links in iteration order.
  Group add_group(Group parent);
  void add_dimension(Group group, std::string name, Extent extent);  // a dimension scale
  // A variable: `names` has the scale's name where one is attached, "" where a phony name is
  // wanted. Variables netCDF-C cannot open are numbered after all the ones it can.
  void add_variable(Group group, std::vector<std::string> names, std::vector<Extent> extents, bool seen_by_netcdf,
                    Done done);
  // Numbers the phony dimensions and hands every variable its names.
  void finish();

 private:
  struct Dimension {
    std::string name;
    Extent extent;
  };
  struct Variable {
    std::vector<std::string> names;
    std::vector<Extent> extents;
    bool seen_by_netcdf;
    Done done;
  };
  struct GroupDimensions {
    std::vector<Dimension> dimensions;
    std::vector<Variable> variables;
    std::vector<Group> children;
  };
  void name_variables(Group group, bool seen_by_netcdf);

  std::vector<GroupDimensions> groups_;
  std::size_t next_id_ = 0;  // netCDF-C numbers dimensions file-wide, scales first
};

}  // namespace kerchunkfs::sources
