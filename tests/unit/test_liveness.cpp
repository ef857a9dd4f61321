// The watchdog's view of the threads: alive when each moved since the last
// look or is excused (inside plugin code, which containment watches).
#define BOOST_TEST_MODULE liveness
#include <boost/test/unit_test.hpp>

#include "common/liveness.h"

using namespace gwd;

BOOST_AUTO_TEST_CASE(a_thread_that_stops_beating_is_named) {
    Liveness l;
    auto upstream = l.enroll("upstream cloud");
    auto sensor = l.enroll("sensor lab");
    BOOST_TEST(l.stalled().empty());  // new ones get a first round
    upstream->beat();
    sensor->beat();
    BOOST_TEST(l.stalled().empty());
    upstream->beat();
    BOOST_TEST(l.stalled() == std::vector<std::string>{"sensor lab"});
    sensor->beat();
    upstream->beat();
    BOOST_TEST(l.stalled().empty());  // moving again
}

BOOST_AUTO_TEST_CASE(an_excused_thread_is_not_stalled_and_beats_when_the_excuse_ends) {
    Liveness l;
    auto poll = l.enroll("sensor stuck");
    l.stalled();
    {
        Heartbeat::Excuse inside_plugin(poll.get());
        BOOST_TEST(l.stalled().empty());
        BOOST_TEST(l.stalled().empty());
    }
    BOOST_TEST(l.stalled().empty());  // the end of the call was a beat
    BOOST_TEST(l.stalled() == std::vector<std::string>{"sensor stuck"});
    Heartbeat::Excuse nobody(nullptr);  // allowed: not watched
}

BOOST_AUTO_TEST_CASE(a_finished_thread_is_forgotten) {
    Liveness l;
    auto gone = l.enroll("upstream removed");
    l.stalled();
    gone.reset();
    BOOST_TEST(l.stalled().empty());
}
