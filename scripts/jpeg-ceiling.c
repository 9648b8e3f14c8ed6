// libjpeg-turbo's own decode rate over JPEG files, in memory, one thread: the ceiling of the
// streaming loader at 224 px (docs/datasets.md). Each file is decoded whole to RGB with the
// TurboJPEG API, scaled by num/den (1 1: full size; 1 2: DCT shrink-on-load), after 16 warm-up decodes.
//   apt-get install libturbojpeg0-dev && gcc -O2 -o /tmp/jpeg-ceiling scripts/jpeg-ceiling.c -lturbojpeg
//   /tmp/jpeg-ceiling REPS NUM DEN FLAGS FILE...   (FLAGS 0, or 2048 = TJFLAG_FASTDCT)
//   e.g. /tmp/jpeg-ceiling 3 1 1 0 $(find /tmp/fast-advprop-bench-jpegs-v1/train -name '*.jpg' | sort)
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <turbojpeg.h>
static double cpu(void){struct timespec t;clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static double wall(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  int reps=atoi(argv[1]); int num=atoi(argv[2]), den=atoi(argv[3]); int flags=argc>4?atoi(argv[4]):0; int n=argc-5;
  unsigned char**buf=malloc(n*sizeof*buf); unsigned long*len=malloc(n*sizeof*len);
  for(int i=0;i<n;i++){FILE*f=fopen(argv[i+5],"rb");fseek(f,0,SEEK_END);len[i]=ftell(f);rewind(f);buf[i]=malloc(len[i]);fread(buf[i],1,len[i],f);fclose(f);}
  tjhandle h=tjInitDecompress(); unsigned char*out=malloc(4000*4000*3); long px=0;
  for(int i=0;i<n&&i<16;i++){int w,hh,s,c;tjDecompressHeader3(h,buf[i],len[i],&w,&hh,&s,&c);tjDecompress2(h,buf[i],len[i],out,TJSCALED(w,((tjscalingfactor){num,den})),0,TJSCALED(hh,((tjscalingfactor){num,den})),TJPF_RGB,flags);}
  double c0=cpu(),w0=wall();
  for(int r=0;r<reps;r++)for(int i=0;i<n;i++){int w,hh,s,c;tjDecompressHeader3(h,buf[i],len[i],&w,&hh,&s,&c);int W=TJSCALED(w,((tjscalingfactor){num,den})),H=TJSCALED(hh,((tjscalingfactor){num,den}));
    if(tjDecompress2(h,buf[i],len[i],out,W,0,H,TJPF_RGB,flags)){fprintf(stderr,"%s\n",tjGetErrorStr());return 1;} px+=(long)W*H;}
  double c1=cpu()-c0,w1=wall()-w0; long imgs=(long)reps*n;
  printf("scale %d/%d flags %d: %ld images, %.0f img/s wall, %.0f img/CPU-s, %.3f ms CPU/img, %.0f Mpx/s\n",num,den,flags,imgs,imgs/w1,imgs/c1,1000*c1/imgs,px/c1/1e6);
  return 0;}
