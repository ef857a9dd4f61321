// profile = "onenet": China Mobile OneNET thing model, OneJSON, as the official device SDKs
// implement it (cm-heclouds/OneNET_AIO_c onenet/tm/tm_api.c and tm_onejson.c; cm-heclouds/studio-acc-sdk-java).
//
// Uplink: each reading becomes a property post whose id is its outbox id,
//   $sys/{pid}/{dev}/thing/property/post
//   {"id":"42","version":"1.0","params":{"temp":{"value":23.4,"time":1795331700000}}}
// The platform answers on .../property/post/reply: code 200 confirms it, any
// other code sends the reading to the dead letters with the code and msg.
// With `batch`, several identifiers go in one post (an identifier that is
// already in it starts the next post, as params is an object); its id is
// its first reading's, and its reply confirms or refuses all of them.
//
// Downlink: thing/property/set -> plugin -> set_reply; thing/property/get ->
// latest values -> get_reply; thing/service/{identifier}/invoke -> plugin ->
// invoke_reply. (Device requests are answered on ".../reply", platform
// requests on "..._reply": the asymmetry is the platform's.)
#pragma once

#include <deque>
#include <map>

#include "config/config.h"
#include "upstream/profiles/command_fanout.h"
#include "upstream/profiles/dead_letter_publish.h"
#include "upstream/profiles/entity_map.h"
#include "upstream/profiles/platform_agent.h"
#include "upstream/profiles/uplink.h"

namespace gwd {

class OnenetUplinkCodec final : public UplinkCodec {
public:
    OnenetUplinkCodec(UpstreamConfig upstream, std::string gateway_id);
    std::optional<PublishRequest> encode(const Message& message, std::uint64_t id) const override;
    std::string batch_key(const Message& message) const override;
    size_t max_batch(std::string_view) const override { return upstream_.batch.max_readings; }
    bool batch_can_take(std::span<const UplinkItem> batch, const Message& next) const override;
    std::optional<PublishRequest> encode_batch(std::span<const UplinkItem> items) const override;

private:
    const std::string& identifier(const Message& message) const;

    UpstreamConfig upstream_;
    DeadLetterPublisher dead_letters_;
};

class OnenetAgent final : public PlatformAgent {
public:
    // Delivered posts awaiting their reply; beyond this many the oldest is
    // forgotten (the platform did not answer it).
    static constexpr size_t kMaxAwaitingReply = 4096;

    OnenetAgent(UpstreamConfig upstream, std::string only_instance);

    std::vector<std::string> subscriptions() const override;
    void on_delivered(std::uint64_t id, const std::shared_ptr<const Message>& message, WallTime now,
                      Output& out) override;
    void on_inbound(const InboundPublish& publish, WallTime now, Output& out) override;
    void on_command_done(std::uint64_t ticket, const CommandOutcome& outcome, WallTime now, Output& out) override;

    std::uint64_t confirmed() const { return confirmed_; }      // readings
    size_t awaiting_reply() const { return awaiting_.size(); }  // posts

private:
    struct Pending {
        std::string reply_topic;
        std::string id;          // the request's id, echoed
        bool with_data = false;  // get_reply and invoke_reply carry "data"
    };

    void post_reply(const std::string& payload, Output& out);
    void property_set(const std::string& payload, Output& out);
    void property_get(const std::string& payload, Output& out);
    void invoke(const std::string& identifier, const std::string& payload, Output& out);
    void reply(const Pending& p, const CommandOutcome& outcome, Output& out);

    UpstreamConfig upstream_;
    EntityMap entities_;
    std::string prefix_;  // $sys/{pid}/{dev}/thing/
    // post id (its first reading's outbox id) -> the readings it carried
    std::map<std::uint64_t, std::vector<std::shared_ptr<const Message>>> awaiting_;
    std::uint64_t confirmed_ = 0;
    CommandFanout<Pending> requests_;
};

}  // namespace gwd
