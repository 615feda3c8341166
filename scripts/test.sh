#!/usr/bin/env bash
# The test command: everything CI runs, from a fresh Debian 12, as root.
#
#   1. deps       install missing packages (scripts/deps.sh)
#   2. build      build/ (RelWithDebInfo, -Werror)
#   3. test       ctest in build/: unit tests, then integration tests that start a real netringd
#                 and run clients as uid/gid 65534 with setpriv (hence root)
#   4. package    tests/package/package_test.sh: builds the Debian package (build-pkg/), lints,
#                 installs it, runs the daemon as its unit would, clients in and out of group
#                 netring and an outside project built against it, then purges it; skipped when
#                 netring is already installed on this machine
#   5. asan       build-asan/ with AddressSanitizer + UBSan, and ctest there: the integration tests
#                 use the build tree, so the daemon and the tools they start are sanitized too
#   6. tsan       build-tsan/ with ThreadSanitizer, and ctest there (integration tests included:
#                 the daemon's worker and switch threads run under TSan); any report fails
#   7. fuzz       build-fuzz/ with clang-14 and libFuzzer (fuzz targets only), each fuzzer run
#                 for FUZZ_SECONDS, seeded from tests/fuzz/corpus/<fuzzer>/ when present
#
# Knobs: SKIP_PACKAGE=1, SKIP_ASAN=1, SKIP_TSAN=1, SKIP_FUZZ=1, FUZZ_SECONDS (default 60), CTEST_JOBS (default 1),
#        CTEST_ARGS (extra ctest arguments, e.g. "-L unit" or "-R PipeSync").
# Exit status: 0 when every step passed; the summary at the end names the failed steps.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

fuzz_seconds=${FUZZ_SECONDS:-60}
ctest_jobs=${CTEST_JOBS:-1}
read -r -a ctest_extra <<<"${CTEST_ARGS:-}"
failed=()
started=$SECONDS

if [[ $(id -u) -ne 0 ]]; then
    echo "test.sh must run as root: the integration tests start netringd and run its clients as" >&2
    echo "uid/gid 65534 with setpriv, which needs root. Run: sudo $0" >&2
    exit 1
fi

# step NAME FUNCTION: runs FUNCTION in a subshell with errexit in force, prints a header and the
# time taken, records a failure, and leaves the exit status in $last. It must not be called from
# an `if`, `&&` or `||`: bash turns errexit off for everything under a condition, subshells included.
last=0
step()
{
    local name=$1 fn=$2 t0=$SECONDS
    printf '\n==== %s ====\n' "$name"
    set +e
    (
        set -e
        "$fn"
    )
    last=$?
    set -e
    if ((last == 0)); then
        printf '==== %s: ok (%d s)\n' "$name" $((SECONDS - t0))
    else
        printf '==== %s: FAILED, exit %d (%d s)\n' "$name" "$last" $((SECONDS - t0))
        failed+=("$name")
    fi
}

run_ctest()
{
    # Tests set their own TIMEOUT; --timeout is the default for any that do not.
    ctest --test-dir "$1" --output-on-failure --timeout 600 -j"$ctest_jobs" "${ctest_extra[@]}"
}

do_deps() { "$root/scripts/deps.sh"; }
do_build() { SKIP_DEPS=1 "$root/scripts/build.sh" "$root/build"; }
do_test() { run_ctest "$root/build"; }

do_package() { SKIP_DEPS=1 "$root/tests/package/package_test.sh"; }

do_asan_build() { SKIP_DEPS=1 "$root/scripts/build.sh" "$root/build-asan" -DNETRING_SANITIZE=ON; }
do_asan_test()
{
    # Leaks fail the test; UB is fatal (the build also has -fno-sanitize-recover=undefined).
    export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    run_ctest "$root/build-asan"
}

do_tsan_build() { SKIP_DEPS=1 "$root/scripts/build.sh" "$root/build-tsan" -DNETRING_TSAN=ON; }
do_tsan_test()
{
    # A report ends the process with exit 66, which fails its test (a daemon's non-zero exit fails
    # the integration test that started it). setarch -R: GCC 12's TSan runtime cannot map its
    # shadow memory under the larger address-space randomisation recent kernels may use.
    export TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1
    setarch "$(uname -m)" -R ctest --test-dir "$root/build-tsan" --output-on-failure --timeout 600 \
        -j"$ctest_jobs" "${ctest_extra[@]}"
}

fuzz_dir=$root/build-fuzz
do_fuzz_build()
{
    # Fuzzers are instrumented with ASan/UBSan as well; clang's warnings are not made errors here
    # (the -Werror gate is the g++ build above).
    cmake -S "$root" -B "$fuzz_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
        -DNETRING_FUZZ=ON -DNETRING_TESTS=ON -DNETRING_SANITIZE=ON -DNETRING_WERROR=OFF
    # Building in the fuzz folder of the tree builds its targets and what they link, nothing else.
    make -C "$fuzz_dir/tests/fuzz" -j"$(nproc)"
}

fuzzers()
{
    find "$fuzz_dir/tests/fuzz" -maxdepth 1 -type f -executable | sort
}

do_fuzz_run()
{
    local list fz name seeds n=0 bad=0
    list=$(fuzzers)
    if [[ -z $list ]]; then
        echo "no fuzz targets were built in $fuzz_dir/tests/fuzz" >&2
        return 1
    fi
    work=$(mktemp -d) # not local: the EXIT trap of this step's subshell still needs it
    trap 'rm -rf "$work"' EXIT
    for fz in $list; do
        name=$(basename "$fz")
        n=$((n + 1))
        # New inputs go to a scratch corpus; the checked-in seeds are read only.
        mkdir -p "$work/$name"
        seeds=()
        for d in "tests/fuzz/corpus/$name" "tests/fuzz/corpus/${name#fuzz_}"; do
            if [[ -d $d ]]; then
                seeds=("$root/$d")
                break
            fi
        done
        echo "-- $name: ${fuzz_seconds} s, seeds: ${seeds[*]:-none}"
        if ! "$fz" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$work/$name-" "$work/$name" "${seeds[@]}" >"$work/$name.log" 2>&1; then
            bad=$((bad + 1))
            echo "-- $name FAILED; last lines of its log:"
            tail -n 60 "$work/$name.log"
            mkdir -p "$root/build-fuzz/artifacts"
            cp "$work/$name"-* "$root/build-fuzz/artifacts/" 2>/dev/null || true
            echo "-- crashing inputs (if any) copied to build-fuzz/artifacts/"
        else
            grep -E '^stat::number_of_executed_units|^Done ' "$work/$name.log" | sed "s/^/   $name: /" || true
        fi
    done
    echo "$n fuzzers run, $bad failed"
    ((bad == 0))
}

step deps do_deps
step build do_build
if ((last == 0)); then
    step test do_test
fi
if [[ ${SKIP_PACKAGE:-0} == 1 ]]; then
    echo "==== package: skipped (SKIP_PACKAGE=1)"
elif dpkg-query -W -f='${Status}' netring 2>/dev/null | grep -q installed; then
    echo "==== package: skipped (netring is installed here; the test would purge it)"
else
    step package do_package
fi
if [[ ${SKIP_ASAN:-0} != 1 ]]; then
    step asan-build do_asan_build
    if ((last == 0)); then
        step asan-test do_asan_test
    fi
else
    echo "==== asan: skipped (SKIP_ASAN=1)"
fi
if [[ ${SKIP_TSAN:-0} != 1 ]]; then
    step tsan-build do_tsan_build
    if ((last == 0)); then
        step tsan-test do_tsan_test
    fi
else
    echo "==== tsan: skipped (SKIP_TSAN=1)"
fi
if [[ ${SKIP_FUZZ:-0} != 1 ]]; then
    step fuzz-build do_fuzz_build
    if ((last == 0)); then
        step fuzz-run do_fuzz_run
    fi
else
    echo "==== fuzz: skipped (SKIP_FUZZ=1)"
fi

printf '\n==== total %d s\n' $((SECONDS - started))
if ((${#failed[@]})); then
    echo "FAILED steps: ${failed[*]}"
    exit 1
fi
echo "all steps passed"
