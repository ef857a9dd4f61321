// A stream whose progress a test places exactly: test_emitter (with
// `gate_file`) sends reading {seq} only once the gate file holds a number
// above seq, so a fault lands at the same reading whatever the machine's speed.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "temp_dir.h"

namespace gwd::test {

class Gate {
public:
    explicit Gate(const TempDir& dir, const std::string& name = "gate") : file_(dir.path() / name) { open_to(0); }
    const std::filesystem::path& file() const { return file_; }
    // Readings below `limit` may go. Written whole (rename), never half.
    void open_to(long long limit) {
        const auto tmp = file_.string() + ".tmp";
        {
            std::ofstream out(tmp);
            out << limit << "\n";
        }
        std::filesystem::rename(tmp, file_);
        limit_ = limit;
    }
    long long limit() const { return limit_; }

private:
    std::filesystem::path file_;
    long long limit_ = 0;
};

// A [[sensor]] of test_emitter sending "{seq}" for seq 0 to count - 1 as `gate` allows.
inline std::string gated_emitter(const std::string& name, const Gate& gate, int count) {
    return "[[sensor]]\nname = \"" + name +
           "\"\nplugin = \"test_emitter\"\n[sensor.options]\ncount = " + std::to_string(count) +
           "\npayload = \"{seq}\"\ngate_file = \"" + gate.file().string() + "\"\n\n";
}

}  // namespace gwd::test
