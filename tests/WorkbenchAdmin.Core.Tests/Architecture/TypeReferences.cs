using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace WorkbenchAdmin.Core.Tests.Architecture;

/// <summary>
/// Which of an assembly's own types each of its types uses, read from the compiled metadata: base types,
/// interfaces, field and method signatures, and every token in every method body (calls, field loads,
/// newobj, casts, generic instantiations). What the compiler made from a type (closures, iterators, lambdas)
/// counts as the type it was made from.
/// </summary>
public sealed class TypeReferences
{
    /// <summary>One reference: the using type, the used type, and the member through which it was seen.</summary>
    public readonly record struct Reference(string From, string FromNamespace, string To, string ToNamespace);

    public IReadOnlyList<Reference> References { get; }
    public IReadOnlyList<(string Type, string Namespace)> Types { get; }

    private TypeReferences(IReadOnlyList<Reference> references, IReadOnlyList<(string, string)> types)
    {
        References = references;
        Types = types;
    }

    public static TypeReferences Read(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var reader = new Reader(md, pe);
        var refs = new HashSet<Reference>();
        var types = new List<(string, string)>();
        foreach (var handle in md.TypeDefinitions)
        {
            var (fromName, fromNs) = reader.Outermost(handle);
            if (fromName.StartsWith('<')) continue; // <Module>, <PrivateImplementationDetails>
            if (md.GetTypeDefinition(handle).GetDeclaringType().IsNil) types.Add((fromName, fromNs));
            foreach (var used in reader.Uses(handle))
            {
                var (toName, toNs) = reader.Outermost(used);
                if (toName.StartsWith('<') || (toName == fromName && toNs == fromNs)) continue;
                refs.Add(new Reference(fromName, fromNs, toName, toNs));
            }
        }
        return new TypeReferences(refs.OrderBy(r => r.FromNamespace).ThenBy(r => r.From).ThenBy(r => r.To).ToList(), types);
    }

    private sealed class Reader(MetadataReader md, PEReader pe)
    {
        private static readonly ImmutableDictionary<short, OperandType> OperandTypes = typeof(OpCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (OpCode)f.GetValue(null)!)
            .ToImmutableDictionary(o => o.Value, o => o.OperandType);

        private readonly Signatures signatures = new();

        public (string Name, string Namespace) Outermost(TypeDefinitionHandle handle)
        {
            var type = md.GetTypeDefinition(handle);
            while (!type.GetDeclaringType().IsNil) type = md.GetTypeDefinition(type.GetDeclaringType());
            return (md.GetString(type.Name), md.GetString(type.Namespace));
        }

        public IEnumerable<TypeDefinitionHandle> Uses(TypeDefinitionHandle handle)
        {
            var type = md.GetTypeDefinition(handle);
            var found = new HashSet<TypeDefinitionHandle>();
            Entity(type.BaseType, found);
            foreach (var i in type.GetInterfaceImplementations()) Entity(md.GetInterfaceImplementation(i).Interface, found);
            foreach (var f in type.GetFields()) found.UnionWith(md.GetFieldDefinition(f).DecodeSignature(signatures, null));
            foreach (var p in type.GetProperties()) Signature(md.GetPropertyDefinition(p).Signature, found);
            foreach (var m in type.GetMethods())
            {
                var method = md.GetMethodDefinition(m);
                var sig = method.DecodeSignature(signatures, null);
                found.UnionWith(sig.ReturnType);
                foreach (var p in sig.ParameterTypes) found.UnionWith(p);
                if (method.RelativeVirtualAddress != 0) Body(pe.GetMethodBody(method.RelativeVirtualAddress), found);
            }
            return found;
        }

        private void Signature(BlobHandle blob, HashSet<TypeDefinitionHandle> found)
        {
            var decoder = new SignatureDecoder<ImmutableArray<TypeDefinitionHandle>, object?>(signatures, md, null);
            var reader = md.GetBlobReader(blob);
            var sig = decoder.DecodeMethodSignature(ref reader);
            found.UnionWith(sig.ReturnType);
            foreach (var p in sig.ParameterTypes) found.UnionWith(p);
        }

        private void Body(MethodBodyBlock body, HashSet<TypeDefinitionHandle> found)
        {
            if (!body.LocalSignature.IsNil)
                foreach (var local in md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(signatures, null))
                    found.UnionWith(local);
            var il = body.GetILReader();
            while (il.RemainingBytes > 0)
            {
                short code = il.ReadByte();
                if (code == 0xFE) code = unchecked((short)(0xFE00 | il.ReadByte()));
                switch (OperandTypes[code])
                {
                    case OperandType.InlineNone: break;
                    case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: il.Offset += 1; break;
                    case OperandType.InlineVar: il.Offset += 2; break;
                    case OperandType.InlineI8 or OperandType.InlineR: il.Offset += 8; break;
                    case OperandType.InlineSwitch: il.Offset += 4 * il.ReadInt32(); break;
                    case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                        Entity(MetadataTokens.EntityHandle(il.ReadInt32()), found);
                        break;
                    default: il.Offset += 4; break; // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
                }
            }
        }

        private void Entity(EntityHandle handle, HashSet<TypeDefinitionHandle> found)
        {
            if (handle.IsNil) return;
            switch (handle.Kind)
            {
                case HandleKind.TypeDefinition: found.Add((TypeDefinitionHandle)handle); break;
                case HandleKind.TypeSpecification:
                    found.UnionWith(md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(signatures, null));
                    break;
                case HandleKind.FieldDefinition: found.Add(md.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType()); break;
                case HandleKind.MethodDefinition: found.Add(md.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType()); break;
                case HandleKind.MemberReference:
                    var member = md.GetMemberReference((MemberReferenceHandle)handle);
                    Entity(member.Parent, found);
                    if (member.GetKind() == MemberReferenceKind.Method) Signature(member.Signature, found);
                    break;
                case HandleKind.MethodSpecification:
                    var spec = md.GetMethodSpecification((MethodSpecificationHandle)handle);
                    Entity(spec.Method, found);
                    foreach (var t in spec.DecodeSignature(signatures, null)) found.UnionWith(t);
                    break;
            }
        }
    }

    /// <summary>Decodes a signature into the assembly's own type definitions it names (outside ones are empty).</summary>
    private sealed class Signatures : ISignatureTypeProvider<ImmutableArray<TypeDefinitionHandle>, object?>
    {
        private static readonly ImmutableArray<TypeDefinitionHandle> None = [];
        public ImmutableArray<TypeDefinitionHandle> GetArrayType(ImmutableArray<TypeDefinitionHandle> e, ArrayShape s) => e;
        public ImmutableArray<TypeDefinitionHandle> GetByReferenceType(ImmutableArray<TypeDefinitionHandle> e) => e;
        public ImmutableArray<TypeDefinitionHandle> GetFunctionPointerType(MethodSignature<ImmutableArray<TypeDefinitionHandle>> s) =>
            [.. s.ReturnType, .. s.ParameterTypes.SelectMany(p => p)];
        public ImmutableArray<TypeDefinitionHandle> GetGenericInstantiation(ImmutableArray<TypeDefinitionHandle> g, ImmutableArray<ImmutableArray<TypeDefinitionHandle>> a) =>
            [.. g, .. a.SelectMany(x => x)];
        public ImmutableArray<TypeDefinitionHandle> GetGenericMethodParameter(object? c, int i) => None;
        public ImmutableArray<TypeDefinitionHandle> GetGenericTypeParameter(object? c, int i) => None;
        public ImmutableArray<TypeDefinitionHandle> GetModifiedType(ImmutableArray<TypeDefinitionHandle> m, ImmutableArray<TypeDefinitionHandle> u, bool r) => u;
        public ImmutableArray<TypeDefinitionHandle> GetPinnedType(ImmutableArray<TypeDefinitionHandle> e) => e;
        public ImmutableArray<TypeDefinitionHandle> GetPointerType(ImmutableArray<TypeDefinitionHandle> e) => e;
        public ImmutableArray<TypeDefinitionHandle> GetPrimitiveType(PrimitiveTypeCode t) => None;
        public ImmutableArray<TypeDefinitionHandle> GetSZArrayType(ImmutableArray<TypeDefinitionHandle> e) => e;
        public ImmutableArray<TypeDefinitionHandle> GetTypeFromDefinition(MetadataReader r, TypeDefinitionHandle h, byte k) => [h];
        public ImmutableArray<TypeDefinitionHandle> GetTypeFromReference(MetadataReader r, TypeReferenceHandle h, byte k) => None;
        public ImmutableArray<TypeDefinitionHandle> GetTypeFromSpecification(MetadataReader r, object? c, TypeSpecificationHandle h, byte k) =>
            r.GetTypeSpecification(h).DecodeSignature(this, c);
    }
}
