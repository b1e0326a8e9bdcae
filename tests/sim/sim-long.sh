#!/bin/bash
# make sim [SEEDS=N] [STEPS=M] [SIM_SEED=S]: the simulator's long run,
# every scenario, from a base seed that changes with each run (printed:
# any failing seed prints the line that replays it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
dlsim=${top_builddir:-$here/../..}/tests/sim/dlsim
[ -x "$dlsim" ] || dlsim=$(pwd)/sim/dlsim
seeds=${SEEDS:-}
seeds=${seeds:-2000}
steps=${STEPS:-100000}
base=${SIM_SEED:-$(date +%s)}
echo "dlsim: $seeds seeds from $base, $steps steps each"
exec "$dlsim" --scenario all --seed "$base" --seeds "$seeds" --steps "$steps"
