# Clients and reads per frontend over time while one frontend is killed
# and revived. Drawn by scripts/bench:
#   gnuplot -e "data='bench/results/load.csv'; out='docs/img/load.png'; kill=10.0; revive=20.0" bench/plots/load.gp
# data columns: t_seconds,frontend,clients,requests_per_s

# One block per frontend: a filtered-out row would break the line.
set datafile separator ','
set table $f0
plot data skip 1 using 1:3:4 with table if (strcol(2) eq '0')
unset table
set table $f1
plot data skip 1 using 1:3:4 with table if (strcol(2) eq '1')
unset table
set table $f2
plot data skip 1 using 1:3:4 with table if (strcol(2) eq '2')
unset table
set datafile separator whitespace

set terminal pngcairo size 1000,650 noenhanced
set output out
set style line 1 lc rgb '#1f77b4' lw 2
set style line 2 lc rgb '#2ca02c' lw 2
set style line 3 lc rgb '#ff7f0e' lw 2
set grid
set key outside right
set xlabel 'seconds'
set autoscale xfix
# Headroom above the highest line, so it is not drawn on the border.
set offsets 0, 0, graph 0.08, 0
set arrow 1 from kill, graph 0 to kill, graph 1 nohead lc rgb '#d62728' dt 2 lw 2
set arrow 2 from revive, graph 0 to revive, graph 1 nohead lc rgb '#2ca02c' dt 2 lw 2
set label 1 'SIGKILL' at kill, graph 0.95 offset 0.5,0 tc rgb '#d62728'
set label 2 'revived' at revive, graph 0.95 offset 0.5,0 tc rgb '#2ca02c'
set multiplot layout 2,1 title 'Load per frontend: one frontend killed at 1/3, revived at 2/3'

set ylabel 'clients (ListFrontends)'
set yrange [0:*]
plot $f0 using 1:2 with steps ls 1 title 'frontend 0', \
     $f1 using 1:2 with steps ls 2 title 'frontend 1', \
     $f2 using 1:2 with steps ls 3 title 'frontend 2'

set ylabel 'reads served/s'
plot $f0 using 1:3 with lines ls 1 title 'frontend 0', \
     $f1 using 1:3 with lines ls 2 title 'frontend 1', \
     $f2 using 1:3 with lines ls 3 title 'frontend 2'
unset multiplot
