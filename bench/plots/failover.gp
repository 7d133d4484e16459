# Histogram of the gap a subscriber sees when its frontend is SIGKILLed:
# from the kill to the first update written after it. Drawn by
# scripts/bench:
#   gnuplot -e "data='bench/results/failover.csv'; out='docs/img/failover.png'" bench/plots/failover.gp
# data columns: round,killed_master,gap_ms

set datafile separator ','
stats data skip 1 using 3 nooutput
# About 40 bins over the range seen, in whole 10 ms.
width = 10 * ceil(STATS_max / 400.0)
bin(x) = width * floor(x / width) + width / 2.0
set xrange [0 : (STATS_max * 1.1 > 1100 ? STATS_max * 1.1 : 1100)]

set terminal pngcairo size 900,480 noenhanced
set output out
set title sprintf('Subscriber gap after a SIGKILL of its frontend (%d kills)', STATS_records)
set xlabel sprintf('gap from the kill to the next update, ms (bins of %d ms)', width)
set ylabel 'kills'
set yrange [0:*]
set grid ytics
set key below
set style fill solid 0.7 border -1
set boxwidth width * 0.9
set arrow 1 from 1000, graph 0 to 1000, graph 1 nohead lc rgb '#d62728' dt 2 lw 2
set label 1 'target: p99 < 1 s' at 1000, graph 0.9 right offset -0.5,0 tc rgb '#d62728'
plot data skip 1 using (strcol(2) eq '0' ? bin($3) : 1/0):(1) smooth frequency \
       with boxes lc rgb '#1f77b4' title 'a member was killed', \
     '' skip 1 using (strcol(2) eq '1' ? bin($3) : 1/0):(1) smooth frequency \
       with boxes lc rgb '#ff7f0e' title 'the master was killed (an election too)'
