// tools/common/args.hpp: the four forms of an option, operands, -h/--help, the getters' ranges,
// and the wording of every usage error.
#include "tools/common/args.hpp"

#include <gtest/gtest.h>

using namespace netring::tools;

namespace {

enum class colour { red, blue };

struct sample_options {
    uint32_t batch = 0;
    double seconds = 0;
    colour c = colour::red;
    std::string name;
    bool json = false;
    std::vector<std::string> words;
};

constexpr option_spec specs[] = {
    {"-b", "a batch from 1 to 100"},
    {"-T", "a positive number of seconds"},
    {"--colour", "red or blue"},
    {"--name", "a name"},
    {"--json", ""},
};

parsed_options<sample_options> parse(std::vector<std::string> args, operands words = operands::allowed)
{
    parsed_options<sample_options> out;
    sample_options &o = out.opts;
    arg_scanner a(args, specs, words);
    while (a.next()) {
        if (a.at_operand())
            o.words.push_back(a.value());
        else if (a.is("-b"))
            a.take_number(o.batch, 1, 100);
        else if (a.is("-T"))
            a.take_seconds(o.seconds, false);
        else if (a.is("--colour"))
            a.take_choice(o.c, {{"red", colour::red}, {"blue", colour::blue}});
        else if (a.is("--name"))
            a.take_text(o.name);
        else if (a.is("--json"))
            o.json = true;
    }
    a.finish(out);
    return out;
}

TEST(ArgScanner, FourForms)
{
    const auto p = parse({"-b", "7", "-T2.5", "--colour", "blue", "--name=x", "--json"});
    ASSERT_TRUE(p.error.empty()) << p.error;
    EXPECT_EQ(p.opts.batch, 7u);
    EXPECT_DOUBLE_EQ(p.opts.seconds, 2.5);
    EXPECT_EQ(p.opts.c, colour::blue);
    EXPECT_EQ(p.opts.name, "x");
    EXPECT_TRUE(p.opts.json);
}

TEST(ArgScanner, OperandsAnywhere)
{
    const auto p = parse({"list", "--json", "vale0", "-", "-b", "-5x"}, operands::allowed);
    EXPECT_EQ(p.error, "-b: expected a batch from 1 to 100, not '-5x'"); // a value may start with '-'
    const auto q = parse({"list", "--json", "vale0", "-"});
    ASSERT_TRUE(q.error.empty()) << q.error;
    EXPECT_EQ(q.opts.words, (std::vector<std::string>{"list", "vale0", "-"}));
    EXPECT_EQ(parse({"-b", "1", "stray"}, operands::refused).error, "unexpected argument 'stray'");
}

TEST(ArgScanner, HelpEndsTheScan)
{
    EXPECT_TRUE(parse({"-h"}).help);
    EXPECT_TRUE(parse({"list", "--help", "--bogus"}).help);
    const auto p = parse({"--bogus", "--help"});
    EXPECT_FALSE(p.help);
    EXPECT_EQ(p.error, "unknown option '--bogus'");
}

TEST(ArgScanner, Messages)
{
    EXPECT_EQ(parse({"-q"}).error, "unknown option '-q'");
    EXPECT_EQ(parse({"-x5"}).error, "unknown option '-x5'");
    EXPECT_EQ(parse({"-b"}).error, "-b needs a batch from 1 to 100");
    EXPECT_EQ(parse({"-b", "0"}).error, "-b: expected a batch from 1 to 100, not '0'");
    EXPECT_EQ(parse({"-b101"}).error, "-b: expected a batch from 1 to 100, not '101'");
    EXPECT_EQ(parse({"--colour=green"}).error, "--colour: expected red or blue, not 'green'");
    EXPECT_EQ(parse({"--name="}).error, "--name needs a name");
    EXPECT_EQ(parse({"--json=yes"}).error, "--json takes no value");
}

TEST(ArgScanner, NumbersAndSeconds)
{
    for (const char *bad : {"", "+5", " 5", "5 ", "0x10", "1e1", "99999999999999999999999"})
        EXPECT_FALSE(parse({"-b", bad}).error.empty()) << bad;
    for (const char *bad : {"0", "-1", "abc", "1s", "inf", "nan", "2e9"})
        EXPECT_FALSE(parse({"-T", bad}).error.empty()) << bad;
    EXPECT_DOUBLE_EQ(parse({"-T", "0.001"}).opts.seconds, 0.001);
    EXPECT_DOUBLE_EQ(parse({"-T", "1e9"}).opts.seconds, 1e9);
}

} // namespace
