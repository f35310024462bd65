#Requires -Version 7.4
<#
.SYNOPSIS
    Verifies a Workbench cluster in an automation pipeline and leaves a JUnit report for the CI system.
.DESCRIPTION
    Runs the module's Pester verification suite against the cluster this node belongs to, writes
    verification.xml (JUnit), and exits non-zero when any check failed or could not be made (the cluster
    store unreachable, the suite unable to run, no check selected), so the pipeline stops there.
.EXAMPLE
    pwsh ./examples/verify-cluster.ps1 -Spec ./examples/cluster.yaml -Tag security, cluster
#>
[CmdletBinding()]
param(
    [string] $Spec,
    [string[]] $Tag = @('Cluster'),
    [string] $Report = 'verification.xml'
)
$ErrorActionPreference = 'Stop'
# Imported here, not with "#Requires -Modules Pester": with that line pwsh -File exits 0 whatever exit says
# (pwsh 7.6, Pester 5.9), and a failed verification would pass the pipeline.
Import-Module Pester -MinimumVersion 5.0
Import-Module WorkbenchAdmin

$suite = Join-Path (Get-Module WorkbenchAdmin).ModuleBase 'module' 'tests' 'WorkbenchAdmin.Cluster.Tests.ps1'
$data = @{}
if ($Spec) { $data.Spec = (Resolve-Path $Spec).Path }

$config = New-PesterConfiguration
$config.Run.Container = New-PesterContainer -Path $suite -Data $data
$config.Run.PassThru = $true
$config.Filter.Tag = $Tag
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'JUnitXml'
$config.TestResult.OutputPath = $Report

$result = Invoke-Pester -Configuration $config
"{0} passed, {1} failed, {2} skipped" -f $result.PassedCount, $result.FailedCount, $result.SkippedCount
# Fail closed: a setup that broke (failed blocks or containers) or a filter that ran no check is not a pass.
$ran = $result.PassedCount + $result.FailedCount + $result.SkippedCount
if ($result.FailedBlocksCount + $result.FailedContainersCount -gt 0) { 'the suite could not run every check (a failed block or container)' }
if ($ran -eq 0) { "no check ran (tags: $($Tag -join ', '))" }
exit [int]($result.Result -ne 'Passed' -or $ran -eq 0)
