# Fan-out of one frontend: delivery latency and deliveries per second
# against the number of subscribers of one key. Drawn by scripts/bench:
#   gnuplot -e "data='bench/results/fanout.csv'; out='docs/img/fanout.png'" bench/plots/fanout.gp
# data columns: subscribers,delivered_share,deliveries_per_s,p50_ack_us,
#               p99_ack_us,p50_send_us,p99_send_us,updates_per_message

set datafile separator ','
set terminal pngcairo size 1100,500 noenhanced
set output out
set style line 1 lc rgb '#1f77b4' lw 2 pt 7
set style line 2 lc rgb '#ff7f0e' lw 2 pt 7
set key below horizontal
set grid
set logscale x
set xlabel 'subscribers of one key, one frontend'
# Ticks at the counts measured, with room on either side.
stats data skip 1 using 1 nooutput
set xrange [STATS_min / 3 : STATS_max * 3]
set multiplot layout 1,2 title 'Fan-out: write ack until each subscriber has the update'

# A push can beat the ack: values <= 0 are left out of the log scale.
set title 'latency from the write ack'
set logscale y
set ylabel 'milliseconds'
plot data skip 1 using 1:($4 > 0 ? $4 / 1000 : 1/0):xtic(1) with linespoints ls 1 title 'p50', \
     '' skip 1 using 1:($5 > 0 ? $5 / 1000 : 1/0) with linespoints ls 2 title 'p99', \
     100 with lines lc rgb '#d62728' dt 2 lw 2 title 'target p99 at 10,000: 100 ms'

set title 'throughput (labels: share delivered)'
unset logscale y
set yrange [0:*]
set ylabel 'deliveries/s'
plot data skip 1 using 1:3:xtic(1) with linespoints ls 1 title 'deliveries/s', \
     '' skip 1 using 1:3:(sprintf('%.0f%%', 100 * $2)) with labels offset 0,1 notitle, \
     150000 with lines lc rgb '#d62728' dt 2 lw 2 title 'target: 150,000/s'
unset multiplot
