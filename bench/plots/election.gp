# Histogram of master failover times: from a SIGKILL of the master until
# every surviving frontend names the next-highest pid. Drawn by
# scripts/bench:
#   gnuplot -e "data='bench/results/election.csv'; out='docs/img/election.png'" bench/plots/election.gp
# data columns: round,failover_ms

set datafile separator ','
stats data skip 1 using 2 nooutput
# About 40 bins over the range seen, in whole 10 ms.
width = 10 * ceil(STATS_max / 400.0)
bin(x) = width * floor(x / width) + width / 2.0
set xrange [0 : (STATS_max * 1.1 > 1100 ? STATS_max * 1.1 : 1100)]

set terminal pngcairo size 900,480 noenhanced
set output out
set title sprintf('New master agreed after a SIGKILL of the master (%d kills)', STATS_records)
set xlabel sprintf('kill until every survivor names the new master, ms (bins of %d ms)', width)
set ylabel 'kills'
set yrange [0:*]
set grid ytics
set key below
set style fill solid 0.7 border -1
set boxwidth width * 0.9
set arrow 1 from 1000, graph 0 to 1000, graph 1 nohead lc rgb '#d62728' dt 2 lw 2
set label 1 'about a second' at 1000, graph 0.9 right offset -0.5,0 tc rgb '#d62728'
plot data skip 1 using (bin($2)):(1) smooth frequency with boxes lc rgb '#1f77b4' title 'kills'
