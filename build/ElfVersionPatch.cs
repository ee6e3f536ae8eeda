// Marks one symbol-version requirement of an ELF64 shared library as weak (VER_FLG_WEAK), so that the dynamic
// loader accepts a libstdc++ that lacks it. Used by the build to make TorchSharp's libLibTorchSharp.so load on
// Debian 12: it asks for GLIBCXX_3.4.32 only for the link marker _ZSt21ios_base_library_initv, which no relocation
// uses. The file is rewritten atomically (temp file + rename), which also breaks any hard link into the NuGet cache.
// This file is compiled both into the build (as an inline MSBuild task) and into the tests.
using System;
using System.IO;
using System.Text;

namespace TemporalSae.Build
{
    public enum ElfPatchOutcome { Patched, AlreadyWeak, NotRequired }

    public static class ElfVersionPatch
    {
        public const ushort VerFlagWeak = 0x2;
        const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>Sets VER_FLG_WEAK on the version requirement named <paramref name="versionName"/>.</summary>
        public static ElfPatchOutcome MakeVersionWeak(string path, string versionName)
        {
            byte[] elf = File.ReadAllBytes(path);
            int flagsOffset = FindVernauxFlagsOffset(elf, versionName, path);
            if (flagsOffset < 0) return ElfPatchOutcome.NotRequired;
            ushort flags = BitConverter.ToUInt16(elf, flagsOffset);
            if ((flags & VerFlagWeak) != 0) return ElfPatchOutcome.AlreadyWeak;
            BitConverter.GetBytes((ushort)(flags | VerFlagWeak)).CopyTo(elf, flagsOffset);

            DateTime stamp = File.GetLastWriteTimeUtc(path);
            string temp = path + ".weak-tmp";
            File.WriteAllBytes(temp, elf);
            // Same timestamp as the copied original, so incremental copies still see the file as unchanged.
            File.SetLastWriteTimeUtc(temp, stamp);
            File.Replace(temp, path, null); // rename(2): atomic on POSIX
            return ElfPatchOutcome.Patched;
        }

        /// <summary>The vna_flags of the named requirement, or null when the library does not require it.</summary>
        public static ushort? ReadVersionFlags(string path, string versionName)
        {
            byte[] elf = File.ReadAllBytes(path);
            int offset = FindVernauxFlagsOffset(elf, versionName, path);
            return offset < 0 ? null : BitConverter.ToUInt16(elf, offset);
        }

        static int FindVernauxFlagsOffset(byte[] elf, string versionName, string path)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException($"{path}: not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException($"{path}: only little-endian ELF64 is supported");

            long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
            int shentsize = BitConverter.ToUInt16(elf, 0x3A);
            int shnum = BitConverter.ToUInt16(elf, 0x3C);
            for (int i = 0; i < shnum; i++)
            {
                int sh = checked((int)(shoff + (long)i * shentsize));
                if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;

                int sectionOffset = checked((int)BitConverter.ToUInt64(elf, sh + 0x18));
                int link = (int)BitConverter.ToUInt32(elf, sh + 0x28);
                int entries = (int)BitConverter.ToUInt32(elf, sh + 0x2C); // sh_info: number of Verneed entries
                int strtab = checked((int)BitConverter.ToUInt64(elf, checked((int)(shoff + (long)link * shentsize)) + 0x18));

                int verneed = sectionOffset;
                for (int n = 0; n < entries; n++)
                {
                    int auxCount = BitConverter.ToUInt16(elf, verneed + 2);
                    int aux = verneed + (int)BitConverter.ToUInt32(elf, verneed + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        int nameOffset = strtab + (int)BitConverter.ToUInt32(elf, aux + 8);
                        if (ReadCString(elf, nameOffset) == versionName) return aux + 4; // vna_flags
                        aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                    }
                    uint next = BitConverter.ToUInt32(elf, verneed + 12);
                    if (next == 0) break;
                    verneed += (int)next;
                }
            }
            return -1;
        }

        static string ReadCString(byte[] bytes, int offset)
        {
            int end = Array.IndexOf(bytes, (byte)0, offset);
            return Encoding.ASCII.GetString(bytes, offset, end - offset);
        }
    }

#if !ELF_PATCH_LIBRARY_ONLY
    /// <summary>MSBuild task: applies <see cref="ElfVersionPatch"/> to each file that exists.</summary>
    public class WeakenElfVersion : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required] public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();
        [Microsoft.Build.Framework.Required] public string VersionName { get; set; } = "";

        public override bool Execute()
        {
            foreach (var item in Files)
            {
                string path = item.GetMetadata("FullPath");
                if (!File.Exists(path)) continue;
                ElfPatchOutcome outcome = ElfVersionPatch.MakeVersionWeak(path, VersionName);
                if (outcome == ElfPatchOutcome.Patched)
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, $"Marked {VersionName} weak in {path}");
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
