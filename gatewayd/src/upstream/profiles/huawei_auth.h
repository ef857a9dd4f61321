// Huawei Cloud IoTDA secret authentication ("Device Connection Authentication",
// https://support.huaweicloud.com/intl/en-us/api-iothub/iot_06_v5_3009.html):
//
//   client id  {device_id}_0_{sign_type}_{YYYYMMDDHH}   (UTC hour of the attempt)
//   user name  {device_id}
//   password   lowercase hex of HMAC-SHA256(key = YYYYMMDDHH, message = secret)
//
// sign_type 1 asks the platform to check the hour against its clock, so the
// credentials are derived again for every connection attempt. The canonical
// algorithm of the docs and the Python and Java SDKs is used; the C SDK's
// "bump the hour when the digest holds a zero byte" quirk is not.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "upstream/profiles/credentials.h"

namespace gwd {

// "YYYYMMDDHH" of `at`, in UTC.
std::string huawei_timestamp(std::chrono::system_clock::time_point at);

// An IoTDA event_time to the second, "yyyyMMdd'T'HHmmss'Z'" in UTC: the one
// form the event (iot_06_v5_3022), property get (3011) and legacy pages show.
std::string huawei_event_time(std::chrono::system_clock::time_point at);
// To the millisecond, "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'" in UTC: the second form
// the property report page (iot_06_v5_3010) documents, e.g.
// "2020-08-12T12:12:12.333Z"; readings keep their milliseconds.
std::string huawei_event_time_ms(std::chrono::system_clock::time_point at);

// HMAC-SHA256 with the timestamp as key and the secret as message, as 64
// lowercase hex digits.
std::string huawei_password(std::string_view secret, std::string_view timestamp);

// What a CONNECT at `at` sends. `sign_type` is 0 (the platform ignores the
// hour) or 1 (it checks it).
Credentials huawei_credentials(const std::string& device_id, std::string_view secret, int sign_type,
                               std::chrono::system_clock::time_point at);

}  // namespace gwd
