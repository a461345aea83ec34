/* Writes org.nwipe.report.v1 fixtures with nwipe PR #729's own cJSON and
 * the key order and calls of its create_json() (src/create_json.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cJSON.h"

static void ts(cJSON *o, const char *name, time_t t) {
    char text[64], key[64];
    cJSON_AddNumberToObject(o, name, (double)t);
    if (t == 0) return;
    struct tm *tm = localtime(&t);
    if (strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S%z", tm) > 0) {
        snprintf(key, sizeof key, "%s_text", name);
        cJSON_AddStringToObject(o, key, text);
    }
}

static void repl(char *s, char c) {
    for (; *s; s++) if (*s < '0' || (*s > '9' && *s < 'A') || (*s > 'Z' && *s < 'a') || *s > 'z') *s = c;
}

struct fx {
    const char *tz, *name, *terse, *model, *serial, *size_text, *real_size_text, *type;
    double size; int sector, phys;
    const char *status_text, *method, *prng, *verify;
    int rounds, rounds_done; double thru; const char *thru_txt;
    time_t start, end; const char *dur;
    double pass, verify_err, round_err, fsync;
    int wipe_status;
};

static void write_fx(const struct fx *f, const char *dir) {
    setenv("TZ", f->tz, 1); tzset();
    int success = f->wipe_status == 0 && f->pass == 0 && f->verify_err == 0 && f->fsync == 0;
    char et[64], model[128], serial[128], dev[128], path[512];
    strftime(et, sizeof et, "%Y-%m-%d_%H-%M-%S", localtime(&f->end));
    snprintf(model, sizeof model, "%s", f->model[0] ? f->model : "unknown_model");
    snprintf(serial, sizeof serial, "%s", f->serial[0] ? f->serial : "unknown_serial");
    snprintf(dev, sizeof dev, "%s", f->terse);
    repl(et, '-'); repl(model, '_'); repl(serial, '_'); repl(dev, '_');
    char out[512];
    snprintf(out, sizeof out, "nwipe_report_%s_Model_%s_Serial_%s_device_%s.json", et, model, serial, dev);
    snprintf(path, sizeof path, "/var/log/nwipe/%s", out);

    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "report_schema", "org.nwipe.report.v1");
    cJSON_AddStringToObject(root, "report_type", "disk_erase_report");
    cJSON *md = cJSON_AddObjectToObject(root, "report_metadata");
    cJSON *org = cJSON_AddObjectToObject(root, "organization_details");
    cJSON *cu = cJSON_AddObjectToObject(root, "selected_customer");
    cJSON *sy = cJSON_AddObjectToObject(root, "system");
    cJSON *d = cJSON_AddObjectToObject(root, "device");
    cJSON *w = cJSON_AddObjectToObject(root, "wipe");
    cJSON *e = cJSON_AddObjectToObject(w, "errors");
    ts(md, "generated_at", f->end);
    cJSON_AddStringToObject(md, "software", "nwipe");
    cJSON_AddStringToObject(md, "version", "0.40");
    cJSON_AddStringToObject(md, "output_path", path);
    cJSON_AddStringToObject(org, "business_name", "Example Recycling Ltd");
    cJSON_AddStringToObject(org, "business_address", "1 Example Road, Leeds");
    cJSON_AddStringToObject(org, "contact_name", "A. Operator");
    cJSON_AddStringToObject(org, "contact_phone", "0113 000 0000");
    cJSON_AddStringToObject(org, "op_tech_name", "A. Operator");
    cJSON_AddStringToObject(cu, "customer_name", "");
    cJSON_AddStringToObject(cu, "customer_address", "");
    cJSON_AddStringToObject(cu, "contact_name", "");
    cJSON_AddStringToObject(cu, "contact_phone", "");
    cJSON_AddStringToObject(sy, "system_serial_number", "CZC1234XYZ");
    cJSON_AddStringToObject(sy, "system_uuid", "4c4c4544-0042-3510-8052-b4c04f4e3232");
    cJSON_AddStringToObject(sy, "baseboard_serial_number", "/CZC1234XYZ/");
    cJSON_AddStringToObject(sy, "user_defined_tag", "");
    cJSON_AddStringToObject(d, "name", f->name);
    cJSON_AddStringToObject(d, "terse_name", f->terse);
    cJSON_AddStringToObject(d, "model", f->model);
    cJSON_AddStringToObject(d, "serial_number", f->serial);
    cJSON_AddStringToObject(d, "uuid", "");
    cJSON_AddStringToObject(d, "size_text", f->size_text);
    cJSON_AddStringToObject(d, "real_size_text", f->real_size_text);
    cJSON_AddNumberToObject(d, "size_bytes", f->size);
    cJSON_AddNumberToObject(d, "real_size_bytes", f->size);
    cJSON_AddNumberToObject(d, "sector_size", f->sector);
    cJSON_AddNumberToObject(d, "physical_sector_size", f->phys);
    cJSON_AddStringToObject(d, "type", f->type);
    cJSON_AddBoolToObject(w, "successful", success);
    cJSON_AddStringToObject(w, "status", success ? "success" : "failure");
    cJSON_AddStringToObject(w, "status_text", f->status_text);
    cJSON_AddStringToObject(w, "method", f->method);
    cJSON_AddStringToObject(w, "prng", f->prng);
    cJSON_AddStringToObject(w, "verify", f->verify);
    cJSON_AddNumberToObject(w, "rounds_requested", f->rounds);
    cJSON_AddNumberToObject(w, "rounds_completed", f->rounds_done);
    cJSON_AddNumberToObject(w, "throughput_bytes_per_second", f->thru);
    cJSON_AddStringToObject(w, "throughput_text", f->thru_txt);
    ts(w, "start_time", f->start);
    ts(w, "end_time", f->end);
    cJSON_AddNumberToObject(w, "duration_seconds", (double)(f->end - f->start));
    cJSON_AddStringToObject(w, "duration_text", f->dur);
    cJSON_AddNumberToObject(e, "pass", f->pass);
    cJSON_AddNumberToObject(e, "verify", f->verify_err);
    cJSON_AddNumberToObject(e, "round", f->round_err);
    cJSON_AddNumberToObject(e, "fsyncdata", f->fsync);
    char *txt = cJSON_Print(root);
    char full[1024]; snprintf(full, sizeof full, "%s/%s", dir, out);
    FILE *fp = fopen(full, "w"); fputs(txt, fp); fputc('\n', fp); fclose(fp);
    printf("%s\n", out);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    struct fx fs[] = {
        /* success, ATA HDD, DoD Short, verify last (London, GMT in March) */
        {"Europe/London", "/dev/sdb", "sdb", "WDC WD5000AAKX-00ERMA0", "WD-WCC2E1234567", "500 GB", "500 GB", " ATA    ",
         500107862016.0, 512, 4096, "ERASED", "DoD Short", "XORoshiro-256", "last", 1, 1, 123000000, "123 MB/s",
         1741943703, 1741956010, "03:25:07", 0, 0, 0, 0, 0},
        /* failed: pass and verification errors (Berlin, +0200 in April) */
        {"Europe/Berlin", "/dev/sdc", "sdc", "ST1000DM010-2EP102", "Z9A1B2C3", "1 TB", "1 TB", " ATA    ",
         1000204886016.0, 512, 4096, "FAILED", "PRNG Stream", "XORoshiro-256", "last", 1, 1, 63000000, "63 MB/s",
         1743595211, 1743610921, "04:21:50", 1, 12, 0, 0, 0},
        /* a USB bridge with no serial (New York, -0400 in May) */
        {"America/New_York", "/dev/sda", "sda", "JMicron Generic", "", "256 GB", "256 GB", " USB    ",
         256060514304.0, 512, 512, "ERASED", "Fill With Zeros", "XORoshiro-256", "off", 1, 1, 130000000, "130 MB/s",
         1747744201, 1747746160, "00:32:39", 0, 0, 0, 0, 0},
        /* an NVMe SSD, aborted by the user (UTC) */
        {"UTC", "/dev/nvme0n1", "nvme0n1", "Samsung SSD 970 EVO Plus 500GB", "S4EVNX0N123456A", "500 GB", "500 GB", "NVME-SSD",
         500107862016.0, 512, 512, "ABORTED", "Gutmann Wipe", "XORoshiro-256", "all", 1, 0, 800000000, "800 MB/s",
         1747732201, 1747732801, "00:10:00", 0, 0, 0, 0, 1},
        /* a loop device whose serial is stray bytes, as nwipe 0.33 printed (UTC) */
        {"UTC", "/dev/loop1", "loop1", "Loopback device", "\xe0\x7f\xcd&\x7f", "8 MB", "8 MB", "VIRT    ",
         8388608.0, 512, 512, "ERASED", "DoD Short", "XORoshiro-256", "all", 1, 1, 8388608, "8 MB/s",
         1796165320, 1796165322, "00:00:02", 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) write_fx(&fs[i], dir);
    return 0;
}
