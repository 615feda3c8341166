// The tools' command-line reader: getopt_long's forms, typed getters, and one wording for every
// usage error, so all the tools take and refuse input the same way.
//
//   constexpr tools::option_spec specs[] = {{"-b", "a batch from 1 to 1048576"}, {"--json", ""}};
//   tools::parsed_options<my_options> out;
//   tools::arg_scanner a(args, specs, tools::operands::refused);
//   while (a.next()) {
//       if (a.is("-b"))
//           a.take_number(out.opts.batch, 1, 1u << 20);
//       else if (a.is("--json"))
//           out.opts.json = true;
//   }
//   if (!a.finish(out)) return out; // -h/--help, or out.error says what was wrong
//   ...checks across options...
//   main(): out.help ? show_usage(usage) : !out.error.empty() ? usage_error("tool", out.error, usage) : run
//
// Forms: -x VALUE, -xVALUE, --name VALUE, --name=VALUE, and flags alone; options and operands in
// any order. -h and --help end the scan wherever they stand. Errors name the option and what it
// wants, from its option_spec: "-b needs a batch from 1 to 1048576" (value missing),
// "-b: expected a batch from 1 to 1048576, not 'x'", "--json takes no value", "unknown option '-q'".
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace netring::tools {

struct option_spec {
    std::string_view name;  // "-b" (a dash and one letter) or "--batch"
    std::string_view value; // what the value is, for messages ("a batch from 1 to 1048576"); empty: a flag
};

enum class operands : uint8_t { refused, allowed }; // words that are no option ("status", "vale0:p1")

template <class T>
struct choice {
    std::string_view word;
    T value;
};

// A command line read: the options, -h/--help, or why it was refused.
template <class Options>
struct parsed_options {
    Options opts;
    bool help = false;
    std::string error; // non-empty: a usage error
};

class arg_scanner {
public:
    // args excludes the program name; both spans must outlive the scanner.
    arg_scanner(std::span<const std::string> args, std::span<const option_spec> specs, operands words);

    // Steps to the next option or operand. False at the end, at -h/--help and after a usage error.
    bool next();
    bool help() const { return help_; }
    const std::string &error() const { return error_; }

    bool is(std::string_view name) const { return spec_ && spec_->name == name; }
    bool at_operand() const { return !spec_; }
    const std::string &value() const { return value_; } // the option's value or the operand, as typed

    // The getters store the current option's value in `out` and return true, or set the error
    // ("-b: expected ..., not 'x'") and return false; `out` keeps its old value then.
    bool take_text(std::string &out);                  // any text but the empty one
    bool take_seconds(double &out, bool zero_allowed); // fractions allowed, at most 1e9
    template <std::integral Int>
    bool take_number(Int &out, uint64_t min, uint64_t max) // decimal digits only; max must fit Int
    {
        uint64_t n = 0;
        if (!take_u64(n, min, max))
            return false;
        out = static_cast<Int>(n);
        return true;
    }
    template <class T>
    bool take_choice(T &out, std::initializer_list<choice<std::type_identity_t<T>>> choices)
    {
        for (const auto &c : choices)
            if (value_ == c.word) {
                out = c.value;
                return true;
            }
        return refuse();
    }
    // The current value is not what the option wants, by a check the getters do not make.
    bool refuse();

    // After the scan: help() and error() into `out`; true when the options are complete to use.
    template <class Options>
    bool finish(parsed_options<Options> &out) const
    {
        out.help = help_;
        out.error = error_;
        return !help_ && error_.empty();
    }

private:
    bool fail(std::string why);
    bool take_u64(uint64_t &out, uint64_t min, uint64_t max);

    std::span<const std::string> args_;
    std::span<const option_spec> specs_;
    operands words_;
    size_t next_ = 0;
    const option_spec *spec_ = nullptr; // the current option; null at an operand
    std::string value_;
    bool help_ = false;
    std::string error_;
};

// What a tool does when its command line ends the run. -h/--help: the usage on stdout, returns
// exit status 0. A usage error: "TOOL: WHY" and the usage on stderr, returns exit status 2.
int show_usage(std::string_view usage);
int usage_error(std::string_view tool, std::string_view why, std::string_view usage);

} // namespace netring::tools
