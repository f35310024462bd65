#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, documents and packages the WorkbenchAdmin module.
.DESCRIPTION
    Tasks run in the order given (comma-separated or as separate words, so both work from bash:
    `pwsh ./build.ps1 -Task Package, Demo` and `pwsh -File ./build.ps1 -Task Package,Pester`):
      Build    dotnet build of the solution.
      Test     ./test.sh: every .NET test suite, then every Pester suite.
      Help     regenerates module/en-US/WorkbenchAdmin.dll-Help.xml from module/help/*.yml.
      Package  stages an importable, versioned module folder ready to publish: out/WorkbenchAdmin/<version>/.
      Pester   runs module/tests/*.Tests.ps1 against the staged package.
      Demo     runs the main job (examples/demo-cluster.ps1) against the staged package.
.EXAMPLE
    ./build.ps1 -Task Package, Demo
#>
[CmdletBinding(PositionalBinding = $false)]
param(
    [string[]] $Task = @('Build'),
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    [string] $OutputPath = (Join-Path $PSScriptRoot 'out'),
    # Task names after a stray comma or space when called from another shell.
    [Parameter(ValueFromRemainingArguments)]
    [string[]] $MoreTask = @()
)
$ErrorActionPreference = 'Stop'
$InformationPreference = 'Continue'
Set-StrictMode -Version Latest

$known = 'Build', 'Test', 'Help', 'Package', 'Pester', 'Demo'
$tasks = @(@($Task) + @($MoreTask) | ForEach-Object { $_ -split ',' } | ForEach-Object Trim | Where-Object { $_ })
foreach ($t in $tasks) {
    if ($t -notin $known) { throw "Unknown task '$t'; the tasks are $($known -join ', ')." }
}

$manifestPath = Join-Path $PSScriptRoot 'WorkbenchAdmin.psd1'
$version = (Import-PowerShellDataFile $manifestPath).ModuleVersion
$staged = Join-Path $OutputPath 'WorkbenchAdmin' $version
$stagedManifest = Join-Path $staged 'WorkbenchAdmin.psd1'

function Invoke-Native([string] $File, [string[]] $Arguments) {
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

foreach ($t in $tasks) {
    Write-Information "==> $t"
    switch ($t) {
        'Build' {
            Invoke-Native dotnet @('build', (Join-Path $PSScriptRoot 'WorkbenchAdmin.sln'), '-c', $Configuration, '--nologo')
        }
        'Test' {
            Invoke-Native (Join-Path $PSScriptRoot 'test.sh') @()
        }
        'Help' {
            Invoke-Native dotnet @('build', (Join-Path $PSScriptRoot 'src/WorkbenchAdmin'), '-c', $Configuration, '--nologo')
            $dll = Join-Path $PSScriptRoot "src/WorkbenchAdmin/bin/$Configuration/net8.0/WorkbenchAdmin.dll"
            Invoke-Native dotnet @('run', '--project', (Join-Path $PSScriptRoot 'src/WorkbenchAdmin.ModuleTools'), '--',
                'help', '--assembly', $dll, '--source', (Join-Path $PSScriptRoot 'module/help'),
                '--out', (Join-Path $PSScriptRoot 'module/en-US/WorkbenchAdmin.dll-Help.xml'))
        }
        'Package' {
            # Layout (see DependencyIsolation.cs): the manifest, the cmdlets and the public object model
            # (WorkbenchAdmin.Model.dll) at the top, in PowerShell's default context; the engine and every
            # library it uses in Dependencies/, in the module's own context; module/ as in the source tree
            # (views, Pester suites), so the manifest names the views by the same path in both places.
            $publish = Join-Path $OutputPath 'publish'
            Remove-Item -Recurse -Force $publish, $staged -ErrorAction SilentlyContinue
            Invoke-Native dotnet @('publish', (Join-Path $PSScriptRoot 'src/WorkbenchAdmin'), '-c', $Configuration, '-o', $publish, '--nologo')
            Invoke-Native dotnet @('build', (Join-Path $PSScriptRoot 'src/WorkbenchAdmin.Testing'), '-c', $Configuration, '--nologo')
            # The balancer program Workbench runs for every new session: a small static client (C) that asks the
            # decision service, and the decider it hands over to, compiled ahead of time (NativeAOT).
            $balancer = Join-Path $OutputPath 'publish-balancer'
            Remove-Item -Recurse -Force $balancer -ErrorAction SilentlyContinue
            Invoke-Native dotnet @('publish', (Join-Path $PSScriptRoot 'src/WorkbenchAdmin.Balancer'), '-c', $Configuration, '-r', 'linux-x64', '-o', $balancer, '--nologo')
            New-Item -ItemType Directory -Force (Join-Path $staged 'bin') | Out-Null
            Copy-Item (Join-Path $balancer 'wbadmin-balancer'), (Join-Path $balancer 'wbadmin-balancer-client') (Join-Path $staged 'bin')
            $dependencies = Join-Path $staged 'Dependencies'
            New-Item -ItemType Directory -Force $dependencies, (Join-Path $staged 'module') | Out-Null
            $top = 'WorkbenchAdmin.dll', 'WorkbenchAdmin.Model.dll'
            Copy-Item (Join-Path $PSScriptRoot 'LICENSE'), (Join-Path $PSScriptRoot 'CHANGELOG.md'), (Join-Path $PSScriptRoot 'README.md') $staged
            # The one difference from the source manifest: the package's root is the compiled module itself.
            $sourceRoot = "RootModule           = 'module/WorkbenchAdmin.psm1'"
            $manifestText = Get-Content -Raw -LiteralPath $manifestPath
            if (-not $manifestText.Contains($sourceRoot)) { throw "WorkbenchAdmin.psd1 no longer says $sourceRoot; update the Package task." }
            Set-Content -LiteralPath $stagedManifest -NoNewline -Value $manifestText.Replace($sourceRoot, "RootModule           = 'WorkbenchAdmin.dll'")
            $top | ForEach-Object { Copy-Item (Join-Path $publish $_) $staged }
            Get-ChildItem $publish -Filter *.dll | Where-Object Name -notin $top | Copy-Item -Destination $dependencies
            Copy-Item (Join-Path $PSScriptRoot "src/WorkbenchAdmin.Testing/bin/$Configuration/net8.0/WorkbenchAdmin.Testing.dll") (Join-Path $staged 'module')
            Get-ChildItem (Join-Path $PSScriptRoot 'module') -Exclude help, en-US, *.psm1 | Copy-Item -Recurse -Destination (Join-Path $staged 'module')
            Copy-Item -Recurse (Join-Path $PSScriptRoot 'module/en-US') $staged
            Test-ModuleManifest $stagedManifest | Out-Null
            Write-Information "staged $staged (Publish-Module -Path $staged -Repository <name> publishes it)"
        }
        'Pester' {
            if (-not (Get-Module -ListAvailable Pester | Where-Object Version -ge '5.0')) {
                throw 'Pester 5 is not installed (../shared/tools/install-pwsh.sh brings it).'
            }
            # The suites import the staged package, as a user would.
            $env:WORKBENCHADMIN_MODULE = $stagedManifest
            # Older copies of two of the module's libraries, for the isolation suite to load first.
            $older = Join-Path $PSScriptRoot 'tests/fixtures/OlderDependencies'
            Invoke-Native dotnet @('build', $older, '-c', $Configuration, '--nologo', '-v', 'quiet')
            $env:WORKBENCHADMIN_OLDER_DEPENDENCIES = Join-Path $older "bin/$Configuration/net8.0"
            $config = New-PesterConfiguration
            $config.Run.Path = (Join-Path $PSScriptRoot 'module/tests')
            $config.Run.Exit = $true
            # The cluster verification suite checks a real cluster; WorkbenchAdmin.ClusterSuite.Tests.ps1 runs it against a throwaway one.
            $config.Filter.ExcludeTag = @('Cluster')
            $config.Output.Verbosity = 'Detailed'
            Invoke-Pester -Configuration $config
        }
        'Demo' {
            & (Join-Path $PSScriptRoot 'examples/demo-cluster.ps1') -ModulePath $stagedManifest
        }
    }
}
