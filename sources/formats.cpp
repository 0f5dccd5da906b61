#include <algorithm>
#include <array>

#include "sources/dmrpp/dmrpp.h"
#include "sources/hdf5/hdf5.h"
#include "sources/netcdf3/netcdf3.h"
#include "sources/source_format.h"

namespace kerchunkfs::sources {

std::span<const SourceFormat> source_formats() {
  static constexpr std::array kFormats{
      SourceFormat{"dmrpp", is_dmrpp, scan_dmrpp, kDmrppSuffix}, SourceFormat{"netcdf3", is_netcdf3, scan_netcdf3, {}},
      SourceFormat{"hdf5", is_hdf5, scan_hdf5, {}},  // last: HDF5 itself decides (a user block may come first)
  };
  return kFormats;
}

std::string_view sidecar_suffix(std::string_view location) {
  location = location.substr(0, std::min(location.find_first_of("?#"), location.size()));
  for (const SourceFormat& format : source_formats()) {
    if (!format.sidecar_suffix.empty() && location.ends_with(format.sidecar_suffix)) return format.sidecar_suffix;
  }
  return {};
}

}  // namespace kerchunkfs::sources
