# Durable write throughput and latency against concurrent writers, through
# gRPC to a backend process and straight into the store in-process. Drawn
# by scripts/bench:
#   gnuplot -e "data='bench/results/write.csv'; out='docs/img/write.png'" bench/plots/write.gp
# data columns: layer,writers,writes_per_s,p50_ms,p99_ms

# One block per layer: a filtered-out row would break the line.
set datafile separator ','
set table $grpc
plot data skip 1 using 2:3:4:5 with table if (strcol(1) eq 'grpc')
unset table
set table $store
plot data skip 1 using 2:3:4:5 with table if (strcol(1) eq 'store')
unset table
set datafile separator whitespace

set terminal pngcairo size 1100,450 noenhanced
set output out
set style line 1 lc rgb '#1f77b4' lw 2 pt 7
set style line 2 lc rgb '#2ca02c' lw 2 pt 7
set key top left
set grid
set logscale x 2
set xlabel 'concurrent writers'
set multiplot layout 1,2 title 'Durable AwardMedal writes (fsync before ack)'

set title 'throughput'
set yrange [0:*]
set ylabel 'acknowledged writes/s'
plot $grpc using 1:2 with linespoints ls 1 title 'through gRPC', \
     $store using 1:2 with linespoints ls 2 title 'store, in-process', \
     10000 with lines lc rgb '#d62728' dt 2 lw 2 title 'target at 32 writers'

set title 'latency (solid p50, dashed p99)'
set logscale y
set yrange [*:*]
set ylabel 'milliseconds'
plot $grpc using 1:3 with linespoints ls 1 title 'gRPC p50', \
     $grpc using 1:4 with linespoints ls 1 dt 2 title 'gRPC p99', \
     $store using 1:3 with linespoints ls 2 title 'store p50', \
     $store using 1:4 with linespoints ls 2 dt 2 title 'store p99'
unset multiplot
