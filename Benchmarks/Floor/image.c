/*
 * image.c — reads the linked ELF the Swift runner runs, so both sides execute the very
 * same guest bytes. Only what a direct64 image needs: PT_LOAD segments at their physical
 * addresses, and the entry point. CR3 comes from the caller (the runner knows the symbol).
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floor.h"

int floor_image_read(const char *path, uint64_t cr3, struct floor_image *image) {
    memset(image, 0, sizeof *image);
    FILE *file = fopen(path, "rb");
    if (!file) return floor_error(path);
    if (fseek(file, 0, SEEK_END) != 0) { fclose(file); return floor_error(path); }
    long size = ftell(file);
    rewind(file);
    if (size < (long)sizeof(Elf64_Ehdr)) { fclose(file); errno = ENOEXEC; return floor_error(path); }
    image->file = malloc((size_t)size);
    if (!image->file || fread(image->file, 1, (size_t)size, file) != (size_t)size) {
        fclose(file);
        floor_image_free(image);
        return floor_error(path);
    }
    fclose(file);
    image->file_size = (size_t)size;

    const Elf64_Ehdr *header = (const Elf64_Ehdr *)image->file;
    int valid = memcmp(header->e_ident, ELFMAG, SELFMAG) == 0 && header->e_ident[EI_CLASS] == ELFCLASS64
        && header->e_machine == EM_X86_64 && header->e_type == ET_EXEC
        && header->e_phentsize == sizeof(Elf64_Phdr)
        && header->e_phoff <= image->file_size
        && (uint64_t)header->e_phnum * sizeof(Elf64_Phdr) <= image->file_size - header->e_phoff;
    if (!valid) {
        fprintf(stderr, "floor: %s is not a linked x86-64 ELF\n", path);
        floor_image_free(image);
        return -1;
    }
    image->entry = header->e_entry;
    image->cr3 = cr3;
    return 0;
}

/* Copies every PT_LOAD segment's file bytes to its physical address in guest RAM (the rest
 * of a fresh guest_memfd already reads as zero, as on the runner's side). */
int floor_image_load(const struct floor_image *image, uint8_t *memory, uint64_t memory_size) {
    const Elf64_Ehdr *header = (const Elf64_Ehdr *)image->file;
    const Elf64_Phdr *segments = (const Elf64_Phdr *)(image->file + header->e_phoff);
    for (int i = 0; i < header->e_phnum; i++) {
        const Elf64_Phdr *segment = &segments[i];
        if (segment->p_type != PT_LOAD || segment->p_filesz == 0) continue;
        if (segment->p_offset > image->file_size || segment->p_filesz > image->file_size - segment->p_offset
            || segment->p_paddr > memory_size || segment->p_filesz > memory_size - segment->p_paddr) {
            fprintf(stderr, "floor: segment %d at 0x%llx does not fit guest RAM\n", i, (unsigned long long)segment->p_paddr);
            return -1;
        }
        memcpy(memory + segment->p_paddr, image->file + segment->p_offset, segment->p_filesz);
    }
    return 0;
}

void floor_image_free(struct floor_image *image) {
    free(image->file);
    image->file = NULL;
}
