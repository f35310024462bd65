using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace WorkbenchAdmin.Core.Hashing;

/// <summary>
/// CityHash v1.1 (google/cityhash), the 64-bit functions Workbench's user-hash balancer uses. Reads are
/// little-endian whatever the machine, so the result is the reference value everywhere.
/// </summary>
public static class CityHash
{
    private const ulong K0 = 0xc3a5c85c97cb3127UL;
    private const ulong K1 = 0xb492b66fbe98f273UL;
    private const ulong K2 = 0x9ae16a3b2f90404fUL;
    private const ulong KMul = 0x9ddfea08eb382d69UL;

    public static ulong CityHash64(ReadOnlySpan<byte> s)
    {
        var len = s.Length;
        if (len <= 32) return len <= 16 ? HashLen0To16(s) : HashLen17To32(s);
        if (len <= 64) return HashLen33To64(s);

        ref var p = ref MemoryMarshal.GetReference(s);
        // For strings over 64 bytes: keep 56 bytes of state (v, w, x, y, z) and mix 64-byte chunks.
        var x = Fetch64(ref p, len - 40);
        var y = Fetch64(ref p, len - 16) + Fetch64(ref p, len - 56);
        var z = HashLen16(Fetch64(ref p, len - 48) + (ulong)len, Fetch64(ref p, len - 24));
        WeakHashLen32WithSeeds(ref p, len - 64, (ulong)len, z, out var v1, out var v2);
        WeakHashLen32WithSeeds(ref p, len - 32, y + K1, x, out var w1, out var w2);
        x = x * K1 + Fetch64(ref p, 0);

        // Walk a moving reference rather than base + offset: one less add per load in the hot loop.
        ref var chunk = ref p;
        ref var end = ref Unsafe.Add(ref p, (len - 1) & ~63);
        do
        {
            x = BitOperations.RotateRight(x + y + v1 + Fetch64(ref chunk, 8), 37) * K1;
            y = BitOperations.RotateRight(y + v2 + Fetch64(ref chunk, 48), 42) * K1;
            x ^= w2;
            y += v1 + Fetch64(ref chunk, 40);
            z = BitOperations.RotateRight(z + w1, 33) * K1;
            WeakHashLen32WithSeeds(ref chunk, 0, v2 * K1, x + w1, out v1, out v2);
            WeakHashLen32WithSeeds(ref chunk, 32, z + w2, y + Fetch64(ref chunk, 16), out w1, out w2);
            (z, x) = (x, z);
            chunk = ref Unsafe.Add(ref chunk, 64);
        } while (Unsafe.IsAddressLessThan(ref chunk, ref end));

        return HashLen16(HashLen16(v1, w1) + ShiftMix(y) * K1 + z, HashLen16(v2, w2) + x);
    }

    public static ulong CityHash64WithSeed(ReadOnlySpan<byte> s, ulong seed) => CityHash64WithSeeds(s, K2, seed);

    public static ulong CityHash64WithSeeds(ReadOnlySpan<byte> s, ulong seed0, ulong seed1) => HashLen16(CityHash64(s) - seed0, seed1);

    /// <summary>
    /// CityHash64WithSeed(s, seed) from CityHash64(s) already computed: rendezvous hashing weighs every node
    /// for every user, and the nodes' own hashes do not change between decisions.
    /// </summary>
    public static ulong WithSeed(ulong cityHash64OfS, ulong seed) => HashLen16(cityHash64OfS - K2, seed);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Fetch64(ref byte p, int offset) =>
        BitConverter.IsLittleEndian
            ? Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, offset))
            : BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, offset)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Fetch32(ref byte p, int offset) =>
        BitConverter.IsLittleEndian
            ? Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, offset))
            : BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, offset)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ShiftMix(ulong v) => v ^ (v >> 47);

    /// <summary>Hash128to64 of (u, v): Murmur-inspired mixing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong HashLen16(ulong u, ulong v) => HashLen16(u, v, KMul);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong HashLen16(ulong u, ulong v, ulong mul)
    {
        var a = (u ^ v) * mul;
        a ^= a >> 47;
        var b = (v ^ a) * mul;
        b ^= b >> 47;
        return b * mul;
    }

    private static ulong HashLen0To16(ReadOnlySpan<byte> s)
    {
        var len = s.Length;
        ref var p = ref MemoryMarshal.GetReference(s);
        if (len >= 8)
        {
            var mul = K2 + (ulong)len * 2;
            var a = Fetch64(ref p, 0) + K2;
            var b = Fetch64(ref p, len - 8);
            var c = BitOperations.RotateRight(b, 37) * mul + a;
            var d = (BitOperations.RotateRight(a, 25) + b) * mul;
            return HashLen16(c, d, mul);
        }
        if (len >= 4)
        {
            var mul = K2 + (ulong)len * 2;
            var a = Fetch32(ref p, 0);
            return HashLen16((ulong)len + (a << 3), Fetch32(ref p, len - 4), mul);
        }
        if (len > 0)
        {
            uint a = s[0], b = s[len >> 1], c = s[len - 1];
            var y = a + (b << 8);
            var z = (uint)len + (c << 2);
            return ShiftMix(y * K2 ^ z * K0) * K2;
        }
        return K2;
    }

    private static ulong HashLen17To32(ReadOnlySpan<byte> s)
    {
        var len = s.Length;
        ref var p = ref MemoryMarshal.GetReference(s);
        var mul = K2 + (ulong)len * 2;
        var a = Fetch64(ref p, 0) * K1;
        var b = Fetch64(ref p, 8);
        var c = Fetch64(ref p, len - 8) * mul;
        var d = Fetch64(ref p, len - 16) * K2;
        return HashLen16(BitOperations.RotateRight(a + b, 43) + BitOperations.RotateRight(c, 30) + d,
                         a + BitOperations.RotateRight(b + K2, 18) + c, mul);
    }

    private static ulong HashLen33To64(ReadOnlySpan<byte> s)
    {
        var len = s.Length;
        ref var p = ref MemoryMarshal.GetReference(s);
        var mul = K2 + (ulong)len * 2;
        var a = Fetch64(ref p, 0) * K2;
        var b = Fetch64(ref p, 8);
        var c = Fetch64(ref p, len - 24);
        var d = Fetch64(ref p, len - 32);
        var e = Fetch64(ref p, 16) * K2;
        var f = Fetch64(ref p, 24) * 9;
        var g = Fetch64(ref p, len - 8);
        var h = Fetch64(ref p, len - 16) * mul;
        var u = BitOperations.RotateRight(a + g, 43) + (BitOperations.RotateRight(b, 30) + c) * 9;
        var v = ((a + g) ^ d) + f + 1;
        var w = BinaryPrimitives.ReverseEndianness((u + v) * mul) + h;
        var x = BitOperations.RotateRight(e + f, 42) + c;
        var y = (BinaryPrimitives.ReverseEndianness((v + w) * mul) + g) * mul;
        var z = e + f + c;
        a = BinaryPrimitives.ReverseEndianness((x + z) * mul + y) + b;
        b = ShiftMix((z + a) * mul + d + h) * mul;
        return b + x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeakHashLen32WithSeeds(ref byte p, int offset, ulong a, ulong b, out ulong first, out ulong second)
    {
        var w = Fetch64(ref p, offset);
        var x = Fetch64(ref p, offset + 8);
        var y = Fetch64(ref p, offset + 16);
        var z = Fetch64(ref p, offset + 24);
        a += w;
        b = BitOperations.RotateRight(b + a + z, 21);
        var c = a;
        a += x;
        a += y;
        b += BitOperations.RotateRight(a, 44);
        first = a + z;
        second = b + c;
    }
}
