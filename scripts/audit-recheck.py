#!/usr/bin/env python3
# Re-reads the rows of a sense audit (benchmarks/readings/audit-*.tsv) with the current
# target/release/fenci: prints CHANGED or same per row (whether the shown gloss or pinyin
# differs from the audited one), the sentence, what it should be, what is shown now and the
# names/phrases line. A CHANGED row still needs reading: changed is not always right.
#   usage: python3 scripts/audit-recheck.py benchmarks/readings/audit-stop26.tsv
import csv, subprocess, os, tempfile, sys
rows=list(csv.DictReader(open(sys.argv[1]),delimiter='\t'))
env=dict(os.environ, FENCI_HOME=tempfile.mkdtemp())
sents=sorted({r['sentence'] for r in rows})
res={}
for s in sents:
    p=subprocess.run(['target/release/fenci','explain'],input=s+'\n',capture_output=True,text=True,env=env).stdout
    res[s]=[l.strip() for l in p.splitlines() if l.startswith('  ') and '│' not in l and l.strip()]
changed=same=0
for r in rows:
    lines=res[r['sentence']]
    hit=[l for l in lines if l.split('  ')[0]==r['word']]
    tog=[l for l in lines if ' = ' in l and '+' in l.split(' = ')[0]]
    now=hit[0] if hit else '(no word line)'
    was=r['shown_gloss_start']
    ch = not now.split('  ',2)[-1].startswith(was[:12]) or (hit and r['shown_pinyin'] not in now)
    changed+=bool(ch); same+=not ch
    print(('CHANGED' if ch else 'same   ')+'\t'+r['word']+'\t'+r['sentence']+'\t'+r['should_be'][:50]+'\t'+now[:70]+'\t'+' | '.join(tog)[:50])
print('changed',changed,'same',same,file=sys.stderr)
