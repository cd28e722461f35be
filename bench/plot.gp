# gnuplot script for bench/run: throughput per contender (log scale) with the 50x-Python line and,
# when hassingle is 1, the start-to-exit time of one send.
# Variables: datafile, singlefile, outfile, subtitle, hassingle, target (0: no line).
if (!exists("target")) target = 0
set terminal pngcairo size 1200,520 font "sans,10"
set output outfile
set termoption noenhanced
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.7
set grid ytics
set key off
set xtics rotate by -20 nomirror
if (hassingle) { set multiplot layout 1,2 title "gcmsg bench — ".subtitle } else { set title "gcmsg bench — ".subtitle }
set title "messages per second (log scale; higher is better)"
set logscale y
set yrange [1:*]
set ylabel "messages / s"
if (target > 0) {
  set arrow 1 from graph 0, first target to graph 1, first target nohead dashtype 2 linecolor rgb "#aa3333"
  set label 1 sprintf("50x Python = %.0f", target) at graph 0.98, first target*1.5 right textcolor rgb "#aa3333"
}
plot datafile using 2:xtic(1) linecolor rgb "#3b75af", \
     '' using 0:($2*1.25):(sprintf("%.0f", $2)) with labels
unset arrow 1
unset label 1
if (hassingle) {
  unset logscale y
  set yrange [0:*]
  set offsets 0, 0, graph 0.08, 0
  set title "one send, start to exit (median; lower is better)"
  set ylabel "milliseconds"
  plot singlefile using 2:xtic(1) linecolor rgb "#d9822b", \
       '' using 0:($2+8):(sprintf("%.0f", $2)) with labels
  unset multiplot
}
