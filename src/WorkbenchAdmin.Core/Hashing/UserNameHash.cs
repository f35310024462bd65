using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace WorkbenchAdmin.Core.Hashing;

/// <summary>CityHash64 of a user name's UTF-8 bytes, without allocating.</summary>
public static class UserNameHash
{
    private const int StackLimit = 256;
    /// <summary>Set in any of four UTF-16 code units read as one little-endian ulong when one is not ASCII.</summary>
    private const ulong NonAscii = 0xFF80_FF80_FF80_FF80UL;

    public static ulong Compute(string userName)
    {
        var len = userName.Length;
        // An ASCII name of up to 16 characters (nearly every user name) is its own UTF-8: CityHash reads at most
        // its first and last 8 bytes, so those characters are read and narrowed in registers, with no buffer.
        if (BitConverter.IsLittleEndian && len is > 0 and <= 16)
        {
            ref var c = ref MemoryMarshal.GetReference(userName.AsSpan());
            if (len >= 8)
            {
                ulong a = Read4(ref c, 0), b = Read4(ref c, 4), y = Read4(ref c, len - 8), z = Read4(ref c, len - 4);
                if (((a | b | y | z) & NonAscii) == 0)
                    return CityHash.HashLen8To16(Narrow(a, b), Narrow(y, z), len);
            }
            else if (len >= 4)
            {
                ulong a = Read4(ref c, 0), z = Read4(ref c, len - 4);
                if (((a | z) & NonAscii) == 0)
                {
                    var both = Narrow(a, z);
                    return CityHash.HashLen4To7((uint)both, (uint)(both >> 32), len);
                }
            }
            else
            {
                uint a = c, b = Unsafe.Add(ref c, len >> 1), z = Unsafe.Add(ref c, len - 1);
                if ((a | b | z) < 0x80) return CityHash.HashLen1To3(a, b, z, len);
            }
        }

        return ComputeFromUtf8(userName);
    }

    /// <summary>Any other name: its UTF-8 bytes in a right-sized buffer. Apart, so the short path has no stack buffer to guard.</summary>
    [SkipLocalsInit] // the buffer is written before it is read
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong ComputeFromUtf8(string userName)
    {
        var max = Encoding.UTF8.GetMaxByteCount(userName.Length);
        if (max <= StackLimit)
        {
            Span<byte> buffer = stackalloc byte[max];
            var n = Encoding.UTF8.GetBytes(userName, buffer);
            return CityHash.CityHash64(buffer[..n]);
        }
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var n = Encoding.UTF8.GetBytes(userName, rented);
            return CityHash.CityHash64(rented.AsSpan(0, n));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Four UTF-16 code units from <paramref name="index"/>, as one little-endian ulong.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read4(ref char c, int index) => Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<char, byte>(ref Unsafe.Add(ref c, index)));

    /// <summary>Twice four ASCII code units (as read by <see cref="Read4"/>) to their eight bytes, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Narrow(ulong low, ulong high) =>
        Sse2.IsSupported
            ? Sse2.PackUnsignedSaturate(Vector128.Create(low, high).AsInt16(), default).AsUInt64().ToScalar()
            : Narrow(low) | (ulong)Narrow(high) << 32;

    /// <summary>Four ASCII code units (as read by <see cref="Read4"/>) to their four bytes, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Narrow(ulong four)
    {
        var x = (four | four >> 8) & 0x0000_FFFF_0000_FFFFUL;
        return (uint)(x | x >> 16);
    }
}
