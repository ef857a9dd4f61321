#define BOOST_TEST_MODULE router
#include <boost/test/unit_test.hpp>

#include "outbox/memory_outbox.h"
#include "router/router.h"

using namespace gwd;

namespace {
std::shared_ptr<const Message> msg(const std::string& instance, Message::Kind kind = Message::Kind::data) {
    auto m = std::make_shared<Message>();
    m->instance = instance;
    m->kind = kind;
    return m;
}
std::shared_ptr<MemoryOutbox> outbox(std::uint64_t bytes = 1 << 20, OverflowPolicy p = OverflowPolicy::drop_oldest) {
    return std::make_shared<MemoryOutbox>(bytes, p);
}
}  // namespace

BOOST_AUTO_TEST_CASE(routes_by_sensor_list) {
    auto all = outbox(), only_field = outbox();
    Router router;
    router.add_route({"all", all, {}, true});
    router.add_route({"field", only_field, {"field"}, true});
    BOOST_TEST(router.dispatch(msg("field")).taken == 2u);
    BOOST_TEST(router.dispatch(msg("lab")).taken == 1u);
    BOOST_TEST(all->stats().queued == 2u);
    BOOST_TEST(only_field->stats().queued == 1u);
}

BOOST_AUTO_TEST_CASE(dead_letters_only_where_a_dead_letter_topic_exists) {
    auto with = outbox(), without = outbox();
    Router router;
    router.add_route({"with", with, {}, true});
    router.add_route({"without", without, {}, false});
    BOOST_TEST(router.dispatch(msg("field", Message::Kind::dead_letter)).taken == 1u);
    BOOST_TEST(without->stats().queued == 0u);
}

BOOST_AUTO_TEST_CASE(a_full_drop_newest_outbox_does_not_count_as_taken) {
    auto tiny = outbox(msg("x")->approximate_size(), OverflowPolicy::drop_newest);
    Router router;
    router.add_route({"tiny", tiny, {}, true});
    BOOST_TEST(router.dispatch(msg("x")).taken == 1u);
    const Router::Dispatched refused = router.dispatch(msg("x"));
    BOOST_TEST(refused.taken == 0u);
    BOOST_TEST(refused.routes == 1u);  // a refusal, not "no upstream takes it"
    BOOST_TEST(tiny->stats().dropped_overflow == 1u);
}

BOOST_AUTO_TEST_CASE(no_routes_no_takers) {
    Router router;
    BOOST_TEST(router.dispatch(msg("field")).taken == 0u);
    BOOST_TEST(router.dispatch(msg("field")).routes == 0u);
}
