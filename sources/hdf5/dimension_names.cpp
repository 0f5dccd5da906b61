#include "sources/hdf5/dimension_names.h"

#include <algorithm>

namespace kerchunkfs::sources {

DimensionNamer::DimensionNamer() : groups_(1) {}

DimensionNamer::Group DimensionNamer::add_group(Group parent) {
  groups_.emplace_back();
  groups_[parent].children.push_back(groups_.size() - 1);
  return groups_.size() - 1;
}

void DimensionNamer::add_dimension(Group group, std::string name, Extent extent) {
  groups_[group].dimensions.push_back({std::move(name), extent});
  ++next_id_;
}

void DimensionNamer::add_variable(Group group, std::vector<std::string> names, std::vector<Extent> extents,
                                  bool seen_by_netcdf, Done done) {
  groups_[group].variables.push_back({std::move(names), std::move(extents), seen_by_netcdf, std::move(done)});
}

void DimensionNamer::finish() {
  name_variables(kRoot, true);
  name_variables(kRoot, false);
}

// netCDF-C matches dimensions children first, then a group's own variables in the order read.
// A phony dimension reuses the group's first dimension of the same length and unlimitedness that
// the variable does not already use.
void DimensionNamer::name_variables(Group group, bool seen_by_netcdf) {
  for (const Group child : groups_[group].children) name_variables(child, seen_by_netcdf);
  auto& dimensions = groups_[group].dimensions;
  for (Variable& variable : groups_[group].variables) {
    if (variable.seen_by_netcdf != seen_by_netcdf) continue;
    for (std::size_t d = 0; d < variable.names.size(); ++d) {
      if (!variable.names[d].empty()) continue;
      const Extent extent = variable.extents[d];
      const auto used = [&](const std::string& name) {
        return std::find(variable.names.begin(), variable.names.begin() + d, name) != variable.names.begin() + d;
      };
      const auto match = std::ranges::find_if(dimensions, [&](const Dimension& dimension) {
        return dimension.extent.length == extent.length && dimension.extent.unlimited == extent.unlimited &&
               !used(dimension.name);
      });
      if (match != dimensions.end()) {
        variable.names[d] = match->name;
      } else {
        dimensions.push_back({"phony_dim_" + std::to_string(next_id_++), extent});
        variable.names[d] = dimensions.back().name;
      }
    }
    variable.done(variable.names);
  }
}

}  // namespace kerchunkfs::sources
