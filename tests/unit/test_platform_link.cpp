// The session's side of a platform agent (PlatformLink) with a scripted
// agent, a FakeBroker and a ManualTime: subscriptions, commands to plugins,
// responses within their slots and pace, refusals, delivered readings.
#define BOOST_TEST_MODULE platform_link
#include <boost/test/unit_test.hpp>

#include "session_rig.h"
#include "upstream/session/platform_link.h"

using namespace gwd;
using namespace gwd::test;
using namespace std::chrono_literals;

namespace {

// Does what the test puts in `next` at the next call, and notes what it heard.
class ScriptedAgent final : public PlatformAgent {
public:
    std::vector<std::string> subscriptions() const override { return {"$cmd/gw-01/#"}; }
    void on_online(WallTime, Output& out) override {
        ++online;
        hand_over(out);
    }
    void on_offline() override { ++offline; }
    void on_sensors(const std::set<std::string>& running, WallTime, Output&) override { sensors = running; }
    void on_stop(WallTime, Output& out) override {
        ++stops;
        hand_over(out);
    }
    void on_delivered(std::uint64_t id, const std::shared_ptr<const Message>&, WallTime, Output&) override {
        delivered.push_back(id);
    }
    void on_inbound(const InboundPublish& publish, WallTime, Output& out) override {
        inbound.push_back(publish.topic);
        hand_over(out);
    }
    void on_command_done(std::uint64_t ticket, const CommandOutcome& outcome, WallTime, Output&) override {
        answers.emplace_back(ticket, outcome);
    }

    void hand_over(Output& out) {
        for (auto& p : next.publishes) out.publishes.push_back(std::move(p));
        for (auto& c : next.commands) out.commands.push_back(std::move(c));
        for (auto& r : next.refused) out.refused.push_back(std::move(r));
        next = Output{};
    }

    Output next;
    int online = 0, offline = 0, stops = 0;
    std::set<std::string> sensors;
    std::vector<std::uint64_t> delivered;
    std::vector<std::string> inbound;
    std::vector<std::pair<std::uint64_t, CommandOutcome>> answers;
};

struct RecordingRouter final : CommandRouter {
    void dispatch(Command command, std::function<void(CommandOutcome)> done) override {
        commands.push_back(command);
        done(CommandOutcome{});
    }
    std::vector<Command> commands;
};

struct LinkRig : SessionRig {
    explicit LinkRig(CommandRouter* router = nullptr) {
        auto owned = std::make_unique<ScriptedAgent>();
        agent = owned.get();
        link =
            std::make_unique<PlatformLink>(PlatformLink::Context{config, pacer, delivery, status, log, time, router,
                                                                 [this](std::uint64_t ticket, CommandOutcome outcome) {
                                                                     answered.emplace_back(ticket, std::move(outcome));
                                                                 }},
                                           std::move(owned));
    }
    ScriptedAgent* agent = nullptr;
    std::unique_ptr<PlatformLink> link;
    std::vector<std::pair<std::uint64_t, CommandOutcome>> answered;
};

PublishRequest response(const std::string& topic) {
    PublishRequest r;
    r.topic = topic;
    r.payload = "{}";
    return r;
}

PlatformAgent::Output::Dispatch dispatch(std::uint64_t ticket) {
    return {ticket, Command{"field", "valve", "set", "{\"open\":true}"}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(start_subscribes_then_tells_the_agent_the_sensors_and_that_it_is_online) {
    LinkRig rig;
    rig.agent->next.publishes.push_back(response("$shadow/get"));
    rig.link->start(*rig.transport, {"field", "meter"}, nullptr);
    BOOST_TEST((rig.broker->subscriptions() == std::vector<std::vector<std::string>>{{"$cmd/gw-01/#"}}));
    BOOST_TEST(rig.agent->online == 1);
    BOOST_TEST((rig.agent->sensors == std::set<std::string>{"field", "meter"}));
    const auto sent = rig.broker->publishes();
    BOOST_REQUIRE(sent.size() == 1u);
    BOOST_TEST(sent[0].topic == "$shadow/get");
    BOOST_TEST((sent[0].id & kControlIdBit) != 0u);  // never mistaken for a reading's acknowledgement
    BOOST_TEST(rig.snapshot().responses == 1u);
}

BOOST_AUTO_TEST_CASE(without_a_router_a_command_is_answered_unsupported) {
    LinkRig rig;
    rig.agent->next.commands.push_back(dispatch(42));
    PlatformLink::Events events;
    events.inbound.emplace_back("$cmd/gw-01/set", "{}");
    rig.link->handle(events);
    rig.link->carry_out(*rig.transport);
    BOOST_REQUIRE(rig.answered.size() == 1u);
    BOOST_TEST(rig.answered[0].first == 42u);
    BOOST_TEST(command_status_name(rig.answered[0].second.status) == "unsupported");
    BOOST_TEST(rig.answered[0].second.message == "this gatewayd takes no commands");
    BOOST_TEST(rig.snapshot().commands == 1u);
}

BOOST_AUTO_TEST_CASE(a_command_goes_to_the_router_and_its_answer_back_to_the_agent) {
    RecordingRouter router;
    LinkRig rig(&router);
    rig.agent->next.commands.push_back(dispatch(7));
    PlatformLink::Events events;
    events.inbound.emplace_back("$cmd/gw-01/set", "{}");
    rig.link->handle(events);
    rig.link->carry_out(*rig.transport);
    BOOST_REQUIRE(router.commands.size() == 1u);
    BOOST_TEST(router.commands[0].sensor == "valve");
    BOOST_REQUIRE(rig.answered.size() == 1u);  // the session's mailbox
    PlatformLink::Events answers;
    answers.answers = rig.answered;
    rig.link->handle(answers);
    BOOST_REQUIRE(rig.agent->answers.size() == 1u);
    BOOST_TEST(rig.agent->answers[0].first == 7u);
    BOOST_TEST(rig.sink->contains("platform command 'set' for sensor 'valve' -> [[sensor]] 'field'"));
}

BOOST_AUTO_TEST_CASE(responses_use_at_most_the_control_slots_and_the_rest_wait) {
    LinkRig rig;
    for (int i = 0; i < kControlSlots + 8; ++i) rig.agent->next.publishes.push_back(response("r/" + std::to_string(i)));
    rig.link->start(*rig.transport, {}, nullptr);
    auto sent = rig.broker->publishes();
    BOOST_TEST(sent.size() == static_cast<size_t>(kControlSlots));
    BOOST_TEST(!rig.link->idle());
    BOOST_TEST(!rig.link->control_wait().has_value());  // waiting for a slot, not for the pace
    for (int i = 0; i < 8; ++i)
        rig.link->control_done(PublishCompletion{1, sent[static_cast<size_t>(i)].id, true, 0, 0});
    BOOST_TEST(rig.link->control_wait().has_value());
    rig.link->carry_out(*rig.transport);
    sent = rig.broker->publishes();
    BOOST_TEST(sent.size() == static_cast<size_t>(kControlSlots + 8));
    BOOST_TEST(sent.back().topic == "r/" + std::to_string(kControlSlots + 7));
    for (size_t i = 8; i < sent.size(); ++i) rig.link->control_done(PublishCompletion{1, sent[i].id, true, 0, 0});
    BOOST_TEST(rig.link->idle());
}

BOOST_AUTO_TEST_CASE(responses_keep_to_the_publish_rate) {
    LinkRig rig;
    PublishPacer paced(1);
    PlatformLink link({rig.config, paced, rig.delivery, rig.status, rig.log, rig.time, nullptr, [](auto, auto) {}},
                      std::make_unique<ScriptedAgent>());
    // Two responses at 1/s: one now, the next when the pace allows.
    auto* agent = static_cast<ScriptedAgent*>(link.agent());
    agent->next.publishes = {response("a"), response("b")};
    link.start(*rig.transport, {}, nullptr);
    BOOST_TEST(rig.broker->publishes().size() == 1u);
    const auto wait = link.control_wait();
    BOOST_REQUIRE(wait.has_value());
    BOOST_TEST(wait->count() > 0);
    rig.time.advance(std::chrono::duration_cast<std::chrono::milliseconds>(*wait) + 1ms);
    link.carry_out(*rig.transport);
    BOOST_TEST(rig.broker->publishes().size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_refusal_after_delivery_goes_to_delivery_and_deliveries_to_the_agent) {
    LinkRig rig;
    auto m = std::make_shared<Message>();
    m->sensor = "temp";
    rig.agent->next.refused.push_back({m, "the platform refused it"});
    rig.link->start(*rig.transport, {}, nullptr);
    BOOST_TEST(rig.snapshot().refused_by_platform == 1u);
    rig.link->delivered(5, m);
    BOOST_TEST((rig.agent->delivered == std::vector<std::uint64_t>{5}));
}

BOOST_AUTO_TEST_CASE(goodbye_once_and_the_end_of_a_connection_forgets_what_was_ours) {
    LinkRig rig;
    rig.link->start(*rig.transport, {}, nullptr);
    rig.agent->next.publishes.push_back(response("bye"));
    PlatformLink::Events events;
    events.saying_goodbye = true;
    rig.link->handle(events);
    rig.link->carry_out(*rig.transport);
    BOOST_TEST(rig.agent->stops == 1);
    BOOST_TEST(rig.broker->publishes().back().topic == "bye");
    BOOST_TEST(!rig.link->idle());
    rig.link->connection_ended();
    BOOST_TEST(rig.agent->offline == 1);
    BOOST_TEST(rig.link->idle());
}

BOOST_AUTO_TEST_CASE(without_an_agent_everything_is_a_no_op) {
    SessionRig rig;
    PlatformLink link({rig.config, rig.pacer, rig.delivery, rig.status, rig.log, rig.time, nullptr, [](auto, auto) {}},
                      nullptr);
    BOOST_TEST(!link.active());
    link.start(*rig.transport, {"x"}, nullptr);
    link.handle(PlatformLink::Events{});
    link.carry_out(*rig.transport);
    BOOST_TEST(rig.broker->subscriptions().empty());
    BOOST_TEST(rig.broker->publishes().empty());
    BOOST_TEST(link.idle());
}
