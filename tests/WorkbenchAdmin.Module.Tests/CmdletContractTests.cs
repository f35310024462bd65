using System.Reflection;
using WorkbenchAdmin.ModuleTools;

namespace WorkbenchAdmin.Module.Tests;

/// <summary>What every cmdlet of the module promises, read from the compiled assembly's metadata.</summary>
public class CmdletContractTests(ModuleFixture module) : IClassFixture<ModuleFixture>
{
    private static readonly string[] StateChangingVerbs =
        ["New", "Set", "Remove", "Reset", "Register", "Unregister", "Update", "Start", "Stop", "Enable", "Disable", "Initialize", "Protect", "Clear", "Add"];

    private IReadOnlyList<CmdletMetadata> Cmdlets => module.Metadata.Cmdlets;

    [Fact]
    public void TheModuleHasCmdletsAndEveryCmdletClassIsDeclared()
    {
        Assert.NotEmpty(Cmdlets);
        var declared = Cmdlets.Select(c => c.Type.FullName).ToHashSet();
        Assert.All(module.Metadata.CmdletClasses(), t => Assert.Contains(t.FullName, declared));
    }

    [Fact]
    public void VerbsAreApproved()
    {
        var approved = module.Metadata.ApprovedVerbs();
        Assert.Contains("Get", approved);
        Assert.Contains("Invoke", approved);
        Assert.All(Cmdlets, c => Assert.True(approved.Contains(c.Verb), $"{c.Name}: '{c.Verb}' is not an approved verb"));
    }

    [Fact]
    public void NounsHaveTheWbPrefixAndAreSingular()
    {
        Assert.All(Cmdlets, c =>
        {
            Assert.True(c.Noun.StartsWith("Wb", StringComparison.Ordinal) && c.Noun.Length > 2 && char.IsUpper(c.Noun[2]), $"{c.Name}: noun must start with Wb");
            var singular = !c.Noun.EndsWith('s') || c.Noun.EndsWith("ss", StringComparison.Ordinal) || c.Noun.EndsWith("us", StringComparison.Ordinal);
            Assert.True(singular, $"{c.Name}: nouns are singular");
        });
    }

    [Fact]
    public void ClassNamesFollowVerbNounCommand()
    {
        Assert.All(Cmdlets, c => Assert.Equal($"{c.Verb}{c.Noun}Command", c.Type.Name));
    }

    [Fact]
    public void EveryCmdletDeclaresItsOutputType()
    {
        Assert.All(Cmdlets, c =>
        {
            Assert.True(c.OutputTypes.Count > 0, $"{c.Name} has no [OutputType]");
            Assert.All(c.OutputTypes, t => Assert.False(t.FullName == "System.Object" || t.FullName == "System.Management.Automation.PSObject", $"{c.Name}: output type must be specific"));
        });
    }

    [Fact]
    public void StateChangingVerbsSupportShouldProcess()
    {
        var changing = Cmdlets.Where(c => StateChangingVerbs.Contains(c.Verb)).ToList();
        Assert.NotEmpty(changing);
        Assert.All(changing, c => Assert.True(c.SupportsShouldProcess, $"{c.Name} must declare SupportsShouldProcess"));
        Assert.All(Cmdlets.Where(c => c.Verb == "Get"), c => Assert.False(c.SupportsShouldProcess, $"{c.Name} changes nothing and must not offer -WhatIf"));
    }

    [Fact]
    public void SetCmdletsOfferPassThru()
    {
        Assert.All(Cmdlets.Where(c => c.Verb == "Set"), c =>
            Assert.Contains(c.Parameters, p => p.Name == "PassThru" && p.IsSwitch));
    }

    [Fact]
    public void NoPlainTextPasswordParameters()
    {
        Assert.All(Cmdlets.SelectMany(c => c.Parameters.Select(p => (c, p))), x =>
        {
            var (c, p) = x;
            if (p.Name.Contains("Password", StringComparison.OrdinalIgnoreCase) || p.Name.Contains("Secret", StringComparison.OrdinalIgnoreCase))
                Assert.True(p.Type.FullName is "System.Security.SecureString" or "System.Management.Automation.PSCredential",
                    $"{c.Name} -{p.Name} is {p.Type.FullName}; passwords are SecureString or PSCredential");
        });
    }

    /// <summary>Cmdlets that read their configuration once per pipeline (in BeginProcessing), so a per-record root cannot apply.</summary>
    private static readonly string[] SetUpOncePerPipeline = ["Invoke-WbBalanceDecision"];

    [Fact]
    public void ConfigRootBindsFromThePipelineByPropertyNameWhereverItIsReadPerRecord()
    {
        var withRoot = Cmdlets.Where(c => !SetUpOncePerPipeline.Contains(c.Name))
            .SelectMany(c => c.Parameters.Where(p => p.Name == "ConfigRoot").Select(p => (c, p))).ToList();
        Assert.NotEmpty(withRoot);
        Assert.All(withRoot, x => Assert.True(x.p.ValueFromPipelineByPropertyName, $"{x.c.Name} -ConfigRoot"));
    }

    [Fact]
    public void CompletersImplementIArgumentCompleter()
    {
        var completers = Cmdlets.SelectMany(c => c.Parameters).Select(p => p.CompleterType).OfType<Type>().Distinct().ToList();
        Assert.NotEmpty(completers);
        Assert.All(completers, t =>
        {
            Assert.True(ModuleMetadata.Implements(t, "System.Management.Automation.IArgumentCompleter"), $"{t.FullName} is not an IArgumentCompleter");
            Assert.NotNull(t.GetConstructor(Type.EmptyTypes));
        });
    }

    [Fact]
    public void MethodParametersCompleteBalancingMethods()
    {
        var method = Cmdlets.Single(c => c.Name == "Set-WbBalancer").Parameters.Single(p => p.Name == "Method");
        Assert.Equal("WorkbenchAdmin.Completion.BalancingMethodCompleter", method.CompleterType?.FullName);
    }

    [Fact]
    public void CoreErrorCategoriesMirrorPowerShellsErrorCategory()
    {
        var sma = module.Metadata.ErrorCategories();
        var core = module.Metadata.FindType("WorkbenchAdmin.Model.WbErrorCategory");
        Assert.NotNull(core);
        foreach (var field in core!.GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            Assert.True(sma.TryGetValue(field.Name, out var value), $"ErrorCategory has no {field.Name}");
            Assert.Equal(value, Convert.ToInt32(field.GetRawConstantValue()));
        }
    }

    [Fact]
    public void TheCoreDoesNotReferencePowerShell()
    {
        var core = module.Metadata.FindType("WorkbenchAdmin.Model.WbException")!.Assembly;
        Assert.DoesNotContain(core.GetReferencedAssemblies(), a => a.Name == "System.Management.Automation");
    }

    public static TheoryData<string, string, string> Pipelines => new()
    {
        { "Get-WbNode", "Invoke-WbBalanceDecision", "Node" },
        { "Get-WbBalancer", "Get-WbConfig", "ConfigRoot" },
        { "Get-WbBalancer", "Set-WbBalancer", "ConfigRoot" },
    };

    public static TheoryData<string, string, string> TypedPipelines => new()
    {
        { "Get-WbNode", "Remove-WbNode", "InputObject" },
        { "Get-WbSession", "Remove-WbSession", "InputObject" },
        { "New-WbSession", "Remove-WbSession", "InputObject" },
        { "Get-WbNode", "Get-WbSession", "Node" },
    };

    /// <summary>Identities travel as typed objects: the producer's output type is what the consumer's pipeline parameter takes.</summary>
    [Theory]
    [MemberData(nameof(TypedPipelines))]
    public void IdentitiesPipeAsTypedObjects(string producer, string consumer, string parameter)
    {
        var p = Cmdlets.Single(c => c.Name == consumer).Parameters.First(x => x.Name == parameter);
        Assert.True(p.ValueFromPipeline, $"{consumer} -{parameter} does not take pipeline input");
        var target = p.Type.IsArray ? p.Type.GetElementType()! : p.Type;
        Assert.Contains(Cmdlets.Single(c => c.Name == producer).OutputTypes, t => t.FullName == target.FullName);
    }

    /// <summary>No parameter binds an id by property name: any object with an Id would be taken for a node or a session.</summary>
    [Fact]
    public void NoIdentityBindsByPropertyName()
    {
        var offenders = Cmdlets.SelectMany(c => c.Parameters.Where(p => p.ValueFromPipelineByPropertyName &&
                p.Aliases.Append(p.Name).Any(n => n.EndsWith("Id", StringComparison.OrdinalIgnoreCase)))
            .Select(p => $"{c.Name} -{p.Name}")).ToList();
        Assert.Empty(offenders);
    }

    /// <summary>The producer's output has a property that binds, by name or alias, to the consumer's parameter, with a compatible type.</summary>
    [Theory]
    [MemberData(nameof(Pipelines))]
    public void OutputPipesIntoTheNextCmdletByPropertyName(string producer, string consumer, string parameter)
    {
        var from = Cmdlets.Single(c => c.Name == producer);
        var to = Cmdlets.Single(c => c.Name == consumer);
        var p = to.Parameters.First(x => x.Name == parameter);
        Assert.True(p.ValueFromPipelineByPropertyName, $"{consumer} -{parameter} does not bind by property name");
        var names = p.Aliases.Append(p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var target = p.Type.IsArray ? p.Type.GetElementType()! : p.Type;
        var property = from.OutputTypes.SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance)).FirstOrDefault(x => names.Contains(x.Name));
        Assert.True(property is not null, $"{producer}'s output has no property named {string.Join(" or ", names)}");
        var source = Nullable(property!.PropertyType);
        Assert.True(source.FullName == Nullable(target).FullName || (source.FullName, Nullable(target).FullName) is ("System.Int32", "System.Int64"),
            $"{producer}.{property.Name} is {source.FullName}; {consumer} -{parameter} takes {target.FullName}");
    }

    private static Type Nullable(Type t) => t.IsGenericType && t.GetGenericTypeDefinition().FullName == "System.Nullable`1" ? t.GetGenericArguments()[0] : t;

    [Theory]
    [InlineData("Invoke-WbBalanceDecision")]
    [InlineData("New-WbSession")]
    public void UserNamesBindFromPipedStringsAndCsvRows(string name)
    {
        var p = Cmdlets.Single(c => c.Name == name).Parameters.Single(x => x.Name == "UserName");
        Assert.True(p.ValueFromPipeline && p.ValueFromPipelineByPropertyName);
    }

    [Fact]
    public void StoreBackedParametersComplete()
    {
        string? Completer(string cmdlet, string parameter) =>
            Cmdlets.Single(c => c.Name == cmdlet).Parameters.First(p => p.Name == parameter).CompleterType?.Name;
        Assert.Equal("NodeIdCompleter", Completer("Remove-WbNode", "Id"));
        Assert.Equal("NodeIdCompleter", Completer("Get-WbNode", "Id"));
        Assert.Equal("NodeAddressCompleter", Completer("Get-WbNode", "HostName"));
        Assert.Equal("ActiveUserCompleter", Completer("Get-WbSession", "UserName"));
        Assert.Equal("NodeAddressCompleter", Completer("Invoke-WbBalanceDecision", "Node"));
    }
}
