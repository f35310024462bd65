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

        var state = new State { X = x, Y = y, Z = z, V1 = v1, V2 = v2, W1 = w1, W2 = w2 };
        MixChunks(ref p, (nuint)((len - 1) / 64), ref state, K1);
        return HashLen16(HashLen16(state.V1, state.W1) + ShiftMix(state.Y) * K1 + state.Z, HashLen16(state.V2, state.W2) + state.X);
    }

    /// <summary>The 56 bytes of state the loop over 64-byte chunks carries.</summary>
    private struct State
    {
        public ulong X, Y, Z, V1, V2, W1, W2;
    }

    /// <summary>
    /// The loop of CityHash64 over 64-byte chunks: the reference's statements, with each sum reassociated so the value
    /// the previous chunk delivers last is added last (the JIT adds in source order where g++ reorders; that alone
    /// was 12% of the native speed), and the two WeakHashLen32WithSeeds calls written out so partial sums of the
    /// chunk's own words are formed off the critical path. Its own method so that K1 arrives in a register
    /// (<paramref name="k1"/>) instead of being re-materialised as a 10-byte immediate at each multiply.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void MixChunks(ref byte p, nuint chunks, ref State state, ulong k1)
    {
        ulong x = state.X, y = state.Y, z = state.Z, v1 = state.V1, v2 = state.V2, w1 = state.W1, w2 = state.W2;
        // Walk a moving reference rather than base + offset: one less add per load in the hot loop.
        ref var end = ref Unsafe.Add(ref p, chunks * 64);
        do
        {
            // Sums of the chunk's words and early state, computed in statements of their own so the JIT keeps them apart.
            var v1F40 = v1 + Fetch64(ref p, 40);
            var f8F16 = Fetch64(ref p, 8) + Fetch64(ref p, 16);
            var f40F48 = Fetch64(ref p, 40) + Fetch64(ref p, 48);
            x = BitOperations.RotateRight(x + Fetch64(ref p, 8) + (y + v1), 37) * k1;
            y = BitOperations.RotateRight(y + Fetch64(ref p, 48) + v2, 42) * k1;
            x ^= w2;
            z = BitOperations.RotateRight(z + w1, 33) * k1;
            y += v1F40;

            // (v1, v2) = WeakHashLen32WithSeeds(chunk, v2 * K1, x + w1)
            var a = v2 * k1 + Fetch64(ref p, 0);
            var b = BitOperations.RotateRight(w1 + Fetch64(ref p, 24) + x + a, 21);
            var c = a;
            a += f8F16;
            var r = BitOperations.RotateRight(a, 44) + c;
            v1 = a + Fetch64(ref p, 24);
            v2 = b + r;

            // (w1, w2) = WeakHashLen32WithSeeds(chunk + 32, z + w2, y + Fetch64(chunk + 16))
            a = z + Fetch64(ref p, 32) + w2;
            b = BitOperations.RotateRight(a + (Fetch64(ref p, 16) + Fetch64(ref p, 56)) + y, 21);
            c = a;
            a += f40F48;
            r = BitOperations.RotateRight(a, 44) + c;
            w1 = a + Fetch64(ref p, 56);
            w2 = b + r;

            (z, x) = (x, z);
            p = ref Unsafe.Add(ref p, 64);
        } while (Unsafe.IsAddressLessThan(ref p, ref end));
        state = new State { X = x, Y = y, Z = z, V1 = v1, V2 = v2, W1 = w1, W2 = w2 };
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
        if (len >= 8) return HashLen8To16(Fetch64(ref p, 0), Fetch64(ref p, len - 8), len);
        if (len >= 4) return HashLen4To7((uint)Fetch32(ref p, 0), (uint)Fetch32(ref p, len - 4), len);
        if (len > 0) return HashLen1To3(s[0], s[len >> 1], s[len - 1], len);
        return K2;
    }

    // The short-input cases take the words they read as values, so UserNameHash can feed them an ASCII name's
    // characters narrowed in registers, with no byte buffer in between.

    /// <summary>8 to 16 bytes, from the first 8 and the last 8 (little-endian).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong HashLen8To16(ulong first8, ulong last8, int len)
    {
        var mul = K2 + (ulong)len * 2;
        var a = first8 + K2;
        var c = BitOperations.RotateRight(last8, 37) * mul + a;
        var d = (BitOperations.RotateRight(a, 25) + last8) * mul;
        return HashLen16(c, d, mul);
    }

    /// <summary>4 to 7 bytes, from the first 4 and the last 4 (little-endian).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong HashLen4To7(uint first4, uint last4, int len) =>
        HashLen16((ulong)len + ((ulong)first4 << 3), last4, K2 + (ulong)len * 2);

    /// <summary>1 to 3 bytes, from the first, middle (index len / 2) and last.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong HashLen1To3(uint first, uint middle, uint last, int len)
    {
        var y = first + (middle << 8);
        var z = (uint)len + (last << 2);
        return ShiftMix(y * K2 ^ z * K0) * K2;
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
