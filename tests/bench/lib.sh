# Helpers for the benchmarks: wall-clock timing and medians.

# now: seconds since the epoch with nanoseconds.
now() { date +%s.%N; }

# elapsed START: seconds since START.
elapsed() { echo "$(now) $1" | awk '{ printf "%.6f", $1 - $2 }'; }

# median V...: the median of the numbers given.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	    END { if (NR % 2) print v[(NR + 1) / 2];
	          else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B [DIGITS]: A / B.
ratio() { echo "$1 $2" | awk -v d="${3:-3}" '{ printf "%.*f", d, $1 / $2 }'; }

# percentile P V...: the P-th percentile (nearest rank) of the numbers given.
percentile() {
	_p=$1
	shift
	printf '%s\n' "$@" | sort -g | awk -v p="$_p" '{ v[NR] = $1 }
	    END { r = int((p * NR + 99) / 100); if (r < 1) r = 1; print v[r] }'
}
