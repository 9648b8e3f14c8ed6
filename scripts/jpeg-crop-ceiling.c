// libjpeg-turbo's own rate at decoding only a random-resized crop of each JPEG (what the streaming
// loader's "turbo" decoder asks of it: src/engine/data/native/jpegCrop.c), in memory, one thread:
// the ceiling of that decoder at 224 px (docs/datasets.md). Crops are drawn as torchvision's
// RandomResizedCrop draws them (scale 0.08–1, ratio 3/4–4/3, ten tries, then the center), from a
// fixed seed; the decode skips the columns beside the box and the rows above it and stops at its last
// row, with the same 4-pixel margin as the addon. Mode 0 decodes each whole file the same way, for
// the same-run comparison with scripts/jpeg-ceiling.c's TurboJPEG rate.
//   apt-get install libjpeg62-turbo-dev && gcc -O2 -o /tmp/jpeg-crop-ceiling scripts/jpeg-crop-ceiling.c -ljpeg -lm
//   /tmp/jpeg-crop-ceiling REPS MODE FILE...   (MODE 1: crops, 0: whole files)
//   e.g. /tmp/jpeg-crop-ceiling 3 1 $(find /tmp/fast-advprop-bench-jpegs-v1/train -name '*.jpg' | sort)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <jpeglib.h>

static double cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static unsigned long long state = 12345;
static double uniform(void) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (state >> 11) * (1.0 / 9007199254740992.0);
}

static void random_resized_crop(int W, int H, int *x, int *y, int *w, int *h) {
  const double area = (double)W * H;
  for (int t = 0; t < 10; t++) {
    const double target = area * (0.08 + uniform() * 0.92);
    const double ratio = exp(log(3. / 4) + uniform() * (log(4. / 3) - log(3. / 4)));
    const int ww = (int)lround(sqrt(target * ratio)), hh = (int)lround(sqrt(target / ratio));
    if (ww > 0 && hh > 0 && ww <= W && hh <= H) {
      *x = (int)(uniform() * (W - ww + 1));
      *y = (int)(uniform() * (H - hh + 1));
      *w = ww;
      *h = hh;
      return;
    }
  }
  const int m = W < H ? W : H;
  *w = *h = m;
  *x = (W - m) / 2;
  *y = (H - m) / 2;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s REPS MODE FILE...\n", argv[0]);
    return 2;
  }
  const int reps = atoi(argv[1]), crop = atoi(argv[2]), n = argc - 3;
  unsigned char **buf = malloc(n * sizeof *buf);
  unsigned long *len = malloc(n * sizeof *len);
  for (int i = 0; i < n; i++) {
    FILE *f = fopen(argv[i + 3], "rb");
    if (!f) {
      perror(argv[i + 3]);
      return 1;
    }
    fseek(f, 0, SEEK_END);
    len[i] = ftell(f);
    rewind(f);
    buf[i] = malloc(len[i]);
    if (fread(buf[i], 1, len[i], f) != len[i]) return 1;
    fclose(f);
  }
  struct jpeg_decompress_struct ci;
  struct jpeg_error_mgr je;
  ci.err = jpeg_std_error(&je);
  jpeg_create_decompress(&ci);
  unsigned char *row = malloc(65536 * 3);
  double c0 = 0, pixels = 0; // the sum of each crop's share of its picture
  // Round 0 warms up.
  for (int r = 0; r <= reps; r++) {
    if (r == 1) c0 = cpu();
    for (int i = 0; i < n; i++) {
      jpeg_mem_src(&ci, buf[i], len[i]);
      jpeg_read_header(&ci, TRUE);
      ci.out_color_space = JCS_RGB;
      jpeg_start_decompress(&ci);
      const int W = ci.output_width, H = ci.output_height;
      int x = 0, y = 0, w = W, h = H;
      if (crop) {
        random_resized_crop(W, H, &x, &y, &w, &h);
        const int x0 = x > 4 ? x - 4 : 0, x1 = x + w + 4 < W ? x + w + 4 : W;
        JDIMENSION xoff = x0, cw = x1 - x0;
        if (x1 - x0 < W) jpeg_crop_scanline(&ci, &xoff, &cw);
        if (y) jpeg_skip_scanlines(&ci, y);
      }
      for (int k = 0; k < h; k++) {
        JSAMPROW rp = row;
        jpeg_read_scanlines(&ci, &rp, 1);
      }
      if (r) pixels += (double)w * h / ((double)W * H);
      jpeg_abort_decompress(&ci);
    }
  }
  const double c = cpu() - c0;
  const long images = (long)reps * n;
  printf("%s: %ld images, %.0f img/CPU-s, %.3f ms CPU/img, crops %.0f %% of a picture on average\n", crop ? "random-resized crops" : "whole files", images,
         images / c, 1000 * c / images, 100 * pixels / images);
  return 0;
}
