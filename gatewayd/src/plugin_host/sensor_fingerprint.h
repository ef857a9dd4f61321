// A short name for "this [[sensor]] block with this plugin file", so that a
// crash record from an earlier run can be matched to what runs now. Any
// change to the block's settings or to the plugin file (size, modification
// time, inode: a rebuilt or reinstalled file) gives another fingerprint.
#pragma once

#include <filesystem>
#include <string>

#include "config/config.h"

namespace gwd {

// 16 hex digits; the file part is "absent" when the file cannot be read.
std::string sensor_fingerprint(const SensorConfig& sensor, const std::filesystem::path& plugin_file);

}  // namespace gwd
