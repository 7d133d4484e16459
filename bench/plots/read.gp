# Read latency and throughput against concurrent callers, for a cached
# read (hit), an uncached read (miss) and a bare gRPC server answering the
# same message (reference). Drawn by scripts/bench:
#   gnuplot -e "data='bench/results/read.csv'; out='docs/img/read.png'" bench/plots/read.gp
# data columns: callers,target,calls_per_s,p50_us,p99_us,vs_reference

# One block per target: the rows of one target are interleaved with the
# others', and a filtered-out row would break the line.
set datafile separator ','
set table $reference
plot data skip 1 using 1:3:4:5 with table if (strcol(2) eq 'reference')
unset table
set table $hit
plot data skip 1 using 1:3:4:5 with table if (strcol(2) eq 'hit')
unset table
set table $miss
plot data skip 1 using 1:3:4:5 with table if (strcol(2) eq 'miss')
unset table
set datafile separator whitespace

set terminal pngcairo size 1100,500 noenhanced
set output out
set style line 1 lc rgb '#777777' lw 2 pt 7
set style line 2 lc rgb '#1f77b4' lw 2 pt 7
set style line 3 lc rgb '#d62728' lw 2 pt 7
set key below maxrows 2
set grid
set logscale x
set xlabel 'concurrent callers'
# Ticks at the caller counts measured, with some room on either side.
stats $hit using 1 nooutput
set xrange [STATS_min / 1.5 : STATS_max * 1.5]
set multiplot layout 1,2 title 'GetScore through one frontend, loopback'

set title 'latency (solid p50, dashed p99)'
set logscale y
set ylabel 'microseconds'
plot $reference using 1:3:xtic(1) with linespoints ls 1 title 'reference p50', \
     $reference using 1:4 with linespoints ls 1 dt 2 title 'reference p99', \
     $hit using 1:3 with linespoints ls 2 title 'hit p50', \
     $hit using 1:4 with linespoints ls 2 dt 2 title 'hit p99', \
     $miss using 1:3 with linespoints ls 3 title 'miss p50', \
     $miss using 1:4 with linespoints ls 3 dt 2 title 'miss p99'

set title 'throughput'
unset logscale y
set yrange [0:*]
set ylabel 'calls/s'
plot $reference using 1:2:xtic(1) with linespoints ls 1 title 'reference', \
     $hit using 1:2 with linespoints ls 2 title 'hit', \
     $miss using 1:2 with linespoints ls 3 title 'miss'
unset multiplot
