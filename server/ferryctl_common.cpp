#include "ferryctl_common.h"

#include <Poco/URI.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <sstream>

namespace ferry::ctl {

std::string json_text(const Poco::JSON::Object::Ptr& object) {
    std::ostringstream out;
    object->stringify(out, 2);
    return out.str() + "\n";
}

std::string body_of(const Poco::JSON::Object& object) {
    std::ostringstream out;
    object.stringify(out);
    return out.str();
}

std::string segment(const std::string& text) {
    std::string out;
    Poco::URI::encode(text, "/?#%@", out);
    return out;
}

std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(text);
    while (std::getline(in, item, ',')) {
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

std::string text_of(const Poco::JSON::Object::Ptr& object, const std::string& field) {
    if (!object || !object->has(field)) return "";
    const auto value = object->get(field);
    if (value.isString()) return value.extract<std::string>();
    if (value.isEmpty()) return "";
    return value.convert<std::string>();
}

std::string utc_time(const std::string& unix_seconds) {
    if (unix_seconds.empty() || unix_seconds.size() > 15 ||
        unix_seconds.find_first_not_of("0123456789") != std::string::npos)
        return unix_seconds;
    const std::time_t t = static_cast<std::time_t>(std::stoll(unix_seconds));
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < row.size() && c < width.size(); ++c)
            width[c] = std::max(width[c], row[c].size());
    }
    auto print_row = [&](const std::vector<std::string>& row) {
        std::string line;
        for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) {
            line += row[c];
            if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
        }
        std::cout << line << "\n";
    };
    print_row(header);
    for (const auto& row : rows) print_row(row);
}

// [####xx++....]: succeeded #, failed x, in progress +, not reported yet .
std::string progress_bar(std::int64_t members, std::int64_t succeeded, std::int64_t failed,
                         std::int64_t in_progress, int width) {
    if (members <= 0) return "[" + std::string(static_cast<std::size_t>(width), ' ') + "]";
    auto cells = [&](std::int64_t n) {
        return static_cast<std::size_t>((n * width + members / 2) / members);
    };
    std::string bar = std::string(cells(succeeded), '#') + std::string(cells(failed), 'x') +
                      std::string(cells(in_progress), '+');
    bar.resize(static_cast<std::size_t>(width), '.');
    return "[" + bar + "]";
}

}  // namespace ferry::ctl
