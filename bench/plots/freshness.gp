# Staleness after an acknowledged write until all three frontends have it,
# push against pull at several poll intervals. Drawn by scripts/bench:
#   gnuplot -e "data='bench/results/freshness.csv'; out='docs/img/freshness.png'" bench/plots/freshness.gp
# data columns: mode,samples,p50_ms,p99_ms,max_ms

set datafile separator ','
set terminal pngcairo size 900,450 noenhanced
set output out
set title 'Write ack until every frontend has it (3 frontends, loopback)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [0.1:*]
set ylabel 'milliseconds (log)'
set grid ytics
set key top left
plot data skip 1 using 3:xtic(1) lc rgb '#1f77b4' title 'p50', \
     '' skip 1 using 4 lc rgb '#ff7f0e' title 'p99', \
     '' skip 1 using 5 lc rgb '#7f7f7f' title 'max', \
     5 with lines lc rgb '#d62728' dt 3 lw 2 title 'push target: p99 < 5 ms'
